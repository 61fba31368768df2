"""The money ledger: balances, credit, recording payments, applying and unapplying them.

Rules (each enforced here, inside one transaction per action):
- balance owing = open invoice totals - net allocations to those invoices;
- available credit = payments - net allocations - refunds;
- no invoice is ever applied beyond its total, no payment beyond its amount less refunds;
- rows are never edited: an unapply is a negative allocation, a refund is its own row.
On PostgreSQL the payment and invoice rows are locked (FOR UPDATE) while a rule is checked, so
two desks cannot both spend the same credit; payments are always locked before invoices.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import (
    Allocation,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    invoice_number,
)
from desk_app.models.clinic import Clinic
from desk_app.models.enums import CollectedBy, InvoiceStatus, PaymentMethod
from desk_app.models.money import format_money
from desk_app.models.patient import Patient
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.patient_access import require_patient, require_patient_of
from desk_app.services.permissions import Permission, require
from desk_app.services.row_ids import Ids, raw_id


@dataclass(frozen=True, slots=True)
class PatientBalance:
    patient_id: uuid.UUID
    currency: str
    owing_cents: int
    credit_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: uuid.UUID
    number: str
    issued_at: datetime
    description: str
    total_cents: int
    applied_cents: int
    status: InvoiceStatus

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.applied_cents if self.status == InvoiceStatus.OPEN else 0


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: uuid.UUID
    received_at: datetime
    method: PaymentMethod
    amount_cents: int
    applied_cents: int
    refunded_cents: int
    collected_by: str
    reference: str

    @property
    def unapplied_cents(self) -> int:
        return self.amount_cents - self.applied_cents - self.refunded_cents


@dataclass(frozen=True, slots=True)
class AllocationRow:
    id: uuid.UUID
    created_at: datetime
    payment_id: uuid.UUID
    payment_label: str
    invoice_id: uuid.UUID
    invoice_number: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class BillingSummary:
    balance: PatientBalance
    invoices: list[InvoiceRow]
    payments: list[PaymentRow]
    allocations: list[AllocationRow]


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment_id: uuid.UUID
    applied: dict[uuid.UUID, int]
    to_credit_cents: int


# ----- reading -------------------------------------------------------------------------------


def invoice_applied(s: Session, invoice_id: uuid.UUID) -> int:
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Allocation.amount_cents), 0)).where(
                Allocation.invoice_id == invoice_id
            )
        )
        or 0
    )


def payment_allocated(s: Session, payment_id: uuid.UUID) -> int:
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Allocation.amount_cents), 0)).where(
                Allocation.payment_id == payment_id
            )
        )
        or 0
    )


def payment_refunded(s: Session, payment_id: uuid.UUID) -> int:
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
                Refund.payment_id == payment_id
            )
        )
        or 0
    )


def applied_between(s: Session, payment_id: uuid.UUID, invoice_id: uuid.UUID) -> int:
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Allocation.amount_cents), 0)).where(
                Allocation.payment_id == payment_id, Allocation.invoice_id == invoice_id
            )
        )
        or 0
    )


def patient_balance(s: Session, patient_id: uuid.UUID, currency: str) -> PatientBalance:
    invoiced = s.scalar(
        select(func.coalesce(func.sum(Invoice.total_cents), 0)).where(
            Invoice.patient_id == patient_id, Invoice.status == InvoiceStatus.OPEN
        )
    )
    allocated_open = s.scalar(
        select(func.coalesce(func.sum(Allocation.amount_cents), 0))
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(Allocation.patient_id == patient_id, Invoice.status == InvoiceStatus.OPEN)
    )
    paid = s.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.patient_id == patient_id
        )
    )
    allocated = s.scalar(
        select(func.coalesce(func.sum(Allocation.amount_cents), 0)).where(
            Allocation.patient_id == patient_id
        )
    )
    refunded = s.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.patient_id == patient_id
        )
    )
    return PatientBalance(
        patient_id=patient_id,
        currency=currency,
        owing_cents=int(invoiced or 0) - int(allocated_open or 0),
        credit_cents=int(paid or 0) - int(allocated or 0) - int(refunded or 0),
    )


def collected_by_label(
    collected_by: CollectedBy, staff_name: str, workstation: str, *, online: bool = False
) -> str:
    """Who took a payment, as its Activity says: "Sam Lee at DESK2", or "the patient via
    link" (a payment link paid online; `online`: it came through Stripe)."""
    if collected_by == CollectedBy.PATIENT:
        return "the patient via link" if online else "the patient"
    if not staff_name:
        return workstation
    return f"{staff_name} at {workstation}" if workstation else staff_name


def _payment_label(method: PaymentMethod, money: str, received_at: datetime) -> str:
    """How an allocation names its payment: "Debit $85.00 on 2026-11-21"."""
    return f"{method.label} {money} on {received_at.date().isoformat()}"


class LedgerService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def currency(self, s: Session, actor: Actor) -> str:
        return s.execute(select(Clinic.currency).where(Clinic.id == actor.clinic_id)).scalar_one()

    def balance(self, actor: Actor, patient_id: uuid.UUID) -> PatientBalance:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            return patient_balance(s, patient_id, self.currency(s, actor))

    def billing_summary(self, actor: Actor, patient_id: uuid.UUID) -> BillingSummary:
        """Everything the Billing tab shows: invoices, payments and what is applied where.

        Read as columns, not entities, with ids as stored (services.row_ids): a long history
        has thousands of rows, and building objects for them cost several times the queries.
        """
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            currency = self.currency(s, actor)
            # Through Core, not the ORM: plain column rows need none of the ORM's row handling.
            conn = s.connection()
            first_line = (
                select(InvoiceLine.description)
                .where(InvoiceLine.invoice_id == Invoice.id, InvoiceLine.position == 0)
                .limit(1)
                .scalar_subquery()
            )
            invoices = conn.execute(
                select(
                    raw_id(Invoice.id),
                    Invoice.workstation,
                    Invoice.seq,
                    Invoice.issued_at,
                    Invoice.total_cents,
                    Invoice.status,
                    first_line.label("description"),
                )
                .where(Invoice.patient_id == patient_id)
                .order_by(Invoice.issued_at.desc(), Invoice.seq.desc())
            ).all()
            payments = conn.execute(
                select(
                    raw_id(Payment.id),
                    Payment.received_at,
                    Payment.method,
                    Payment.amount_cents,
                    Payment.collected_by,
                    raw_id(Payment.collected_by_staff_id),
                    Payment.reference,
                    Payment.workstation,
                    Payment.stripe_payment_intent_id,
                )
                .where(Payment.patient_id == patient_id)
                .order_by(Payment.received_at.desc())
            ).all()
            allocations = conn.execute(
                select(
                    raw_id(Allocation.id),
                    Allocation.created_at,
                    raw_id(Allocation.payment_id),
                    raw_id(Allocation.invoice_id),
                    Allocation.amount_cents,
                )
                .where(Allocation.patient_id == patient_id)
                .order_by(Allocation.created_at.desc())
            ).all()
            refunds = conn.execute(
                select(raw_id(Refund.payment_id), func.sum(Refund.amount_cents))
                .where(Refund.patient_id == patient_id)
                .group_by(Refund.payment_id)
            ).all()
            staff_names = {
                sid: f"{fn} {ln}"
                for sid, fn, ln in conn.execute(
                    select(raw_id(Staff.id), Staff.first_name, Staff.last_name)
                )
            }

        # Dicts below are keyed by the raw ids; uid() makes the uuid.UUIDs the rows carry.
        # Rows are unpacked as tuples: a Row's attribute access costs more than the rest.
        uid = Ids()
        by_invoice: dict[object, int] = defaultdict(int)
        by_payment: dict[object, int] = defaultdict(int)
        for _aid, _created, payment_id, invoice_id, cents in allocations:
            by_invoice[invoice_id] += cents
            by_payment[payment_id] += cents
        refunded = {pid: int(total) for pid, total in refunds}
        numbers: dict[object, str] = {}
        inv_rows = []
        for iid, workstation, seq, issued_at, total, status, description in invoices:
            number = numbers[iid] = invoice_number(workstation, seq)
            inv_rows.append(
                InvoiceRow(
                    uid(iid), number, issued_at, description or "", total, by_invoice[iid], status
                )
            )
        pay_rows = []
        labels: dict[object, str] = {}
        money: dict[int, str] = {}
        for row in payments:
            pid, received_at, method, amount, collected_by, staff_id, reference, desk, intent = row
            pay_rows.append(
                PaymentRow(
                    uid(pid),
                    received_at,
                    method,
                    amount,
                    by_payment[pid],
                    refunded.get(pid, 0),
                    collected_by_label(
                        collected_by, staff_names.get(staff_id, ""), desk, online=bool(intent)
                    ),
                    reference,
                )
            )
            shown = money.get(amount)
            if shown is None:
                shown = money[amount] = format_money(amount, currency)
            labels[pid] = _payment_label(method, shown, received_at)
        alloc_rows = [
            AllocationRow(
                uid(aid),
                created_at,
                uid(payment_id),
                labels.get(payment_id, ""),
                uid(invoice_id),
                numbers.get(invoice_id, ""),
                cents,
            )
            for aid, created_at, payment_id, invoice_id, cents in allocations
        ]
        open_total = sum(r.total_cents for r in inv_rows if r.status == InvoiceStatus.OPEN)
        open_applied = sum(r.applied_cents for r in inv_rows if r.status == InvoiceStatus.OPEN)
        credit = sum(r.unapplied_cents for r in pay_rows)
        balance = PatientBalance(patient_id, currency, open_total - open_applied, credit)
        return BillingSummary(balance, inv_rows, pay_rows, alloc_rows)

    # ----- writing ---------------------------------------------------------------------------

    def record_payment(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        method: PaymentMethod,
        amount_cents: int,
        *,
        apply_to: Sequence[uuid.UUID] = (),
        location_id: uuid.UUID | None = None,
        reference: str = "",
        note: str = "",
    ) -> PaymentResult:
        """Record money received at the desk and apply it to the chosen invoices in order.

        Whatever the chosen invoices do not need stays on the account as credit.
        """
        require(actor, Permission.TAKE_PAYMENT)
        if method == PaymentMethod.CARD:
            raise ValidationError(
                "Card payments are taken through the card on file, not recorded by hand."
            )
        if amount_cents <= 0:
            raise ValidationError("Enter an amount greater than zero.", "amount")
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            patient = s.get(Patient, patient_id)
            if patient is None:
                raise NotFound("That patient no longer exists.")
            currency = self.currency(s, actor)
            payment = Payment(
                clinic_id=actor.clinic_id,
                patient_id=patient_id,
                location_id=location_id,
                method=method,
                amount_cents=amount_cents,
                received_at=self.db.clock.now(),
                collected_by=CollectedBy.STAFF,
                collected_by_staff_id=actor.staff_id,
                reference=reference.strip()[:120],
                note=note.strip(),
                workstation=actor.workstation,
            )
            s.add(payment)
            s.flush()
            remaining = amount_cents
            applied: dict[uuid.UUID, int] = {}
            for invoice_id in dict.fromkeys(apply_to):
                if remaining == 0:
                    break
                invoice = self._open_invoice(s, invoice_id, patient_id)
                owing = invoice.total_cents - invoice_applied(s, invoice_id)
                share = min(owing, remaining)
                if share > 0:
                    self._allocate(s, actor, payment, invoice, share)
                    applied[invoice_id] = share
                    remaining -= share
            audit.record(
                s,
                actor,
                "payment.recorded",
                entity=payment,
                patient_id=patient_id,
                summary=f"{method.label} payment of {format_money(amount_cents, currency)}",
                details={
                    "applied": {str(k): v for k, v in applied.items()},
                    "to_credit": remaining,
                    "collected_by": actor.description,
                },
            )
            return PaymentResult(payment.id, applied, remaining)

    def apply_payment(
        self,
        actor: Actor,
        payment_id: uuid.UUID,
        invoice_id: uuid.UUID,
        amount_cents: int | None = None,
    ) -> int:
        """Apply all or part of a payment's unapplied amount to an invoice; returns the amount."""
        require(actor, Permission.APPLY_PAYMENT)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Payment, payment_id)
            require_patient_of(s, actor, Invoice, invoice_id)
            currency = self.currency(s, actor)
            payment = self._locked_payment(s, payment_id)
            invoice = self._open_invoice(s, invoice_id, payment.patient_id)
            available = (
                payment.amount_cents
                - payment_allocated(s, payment.id)
                - payment_refunded(s, payment.id)
            )
            owing = invoice.total_cents - invoice_applied(s, invoice.id)
            amount = min(available, owing) if amount_cents is None else amount_cents
            self._check_apply(amount, available, owing, invoice, currency)
            self._allocate(s, actor, payment, invoice, amount)
            audit.record(
                s,
                actor,
                "payment.applied",
                entity=payment,
                patient_id=payment.patient_id,
                summary=f"Applied {format_money(amount, currency)} to {invoice.number}",
                details={"invoice": str(invoice.id), "amount": amount},
            )
            return amount

    def apply_credit(
        self, actor: Actor, invoice_id: uuid.UUID, amount_cents: int | None = None
    ) -> int:
        """Pay an invoice from the patient's available credit, oldest credit first."""
        require(actor, Permission.APPLY_PAYMENT)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Invoice, invoice_id)
            currency = self.currency(s, actor)
            patient_id = s.scalar(select(Invoice.patient_id).where(Invoice.id == invoice_id))
            if patient_id is None:
                raise NotFound("That invoice no longer exists.")
            # Lock order everywhere: payments first, then invoices (no deadlock between desks).
            sources = self._credit_sources(s, patient_id)
            invoice = self._locked_invoice(s, invoice_id)
            if invoice.status != InvoiceStatus.OPEN:
                raise Conflict(f"Invoice {invoice.number} was deleted; nothing can be applied.")
            owing = invoice.total_cents - invoice_applied(s, invoice.id)
            available = sum(v for _, v in sources)
            amount = min(available, owing) if amount_cents is None else amount_cents
            if available <= 0:
                raise Conflict("This patient has no available credit to apply.")
            self._check_apply(amount, available, owing, invoice, currency, what="credit")
            remaining = amount
            for payment, unapplied in sources:
                share = min(unapplied, remaining)
                self._allocate(s, actor, payment, invoice, share)
                remaining -= share
                if remaining == 0:
                    break
            audit.record(
                s,
                actor,
                "credit.applied",
                entity=invoice,
                patient_id=invoice.patient_id,
                summary=f"Applied {format_money(amount, currency)} of credit to {invoice.number}",
                details={"amount": amount},
            )
            return amount

    def unapply(
        self,
        actor: Actor,
        payment_id: uuid.UUID,
        invoice_id: uuid.UUID,
        amount_cents: int | None = None,
    ) -> int:
        """Take all or part of a payment back off an invoice; it becomes credit again."""
        require(actor, Permission.UNAPPLY_PAYMENT)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Payment, payment_id)
            require_patient_of(s, actor, Invoice, invoice_id)
            currency = self.currency(s, actor)
            payment = self._locked_payment(s, payment_id)
            invoice = self._locked_invoice(s, invoice_id)
            applied = applied_between(s, payment.id, invoice.id)
            if applied <= 0:
                raise Conflict(f"Nothing from this payment is applied to {invoice.number}.")
            amount = applied if amount_cents is None else amount_cents
            if amount <= 0:
                raise ValidationError("Enter an amount greater than zero to unapply.", "amount")
            if amount > applied:
                raise ValidationError(
                    f"Only {format_money(applied, currency)} of this payment is applied to "
                    f"{invoice.number}; unapply that much or less.",
                    "amount",
                )
            s.add(
                Allocation(
                    payment_id=payment.id,
                    invoice_id=invoice.id,
                    patient_id=payment.patient_id,
                    amount_cents=-amount,
                    created_by_id=actor.staff_id,
                    workstation=actor.workstation,
                )
            )
            audit.record(
                s,
                actor,
                "payment.unapplied",
                entity=payment,
                patient_id=payment.patient_id,
                summary=f"Unapplied {format_money(amount, currency)} from {invoice.number}",
                details={"invoice": str(invoice.id), "amount": amount},
            )
            return amount

    def refund(
        self, actor: Actor, payment_id: uuid.UUID, amount_cents: int, reason: str = ""
    ) -> uuid.UUID:
        """Give back money from a payment's unapplied amount (cash, cheque, e-transfer...).

        Card refunds go back through Stripe (the card-payment service). What is applied to an
        invoice must be unapplied first, so no invoice is left paid by money that was returned.
        """
        require(actor, Permission.REFUND)
        with self.db.transaction() as s:
            require_patient_of(s, actor, Payment, payment_id)
            currency = self.currency(s, actor)
            payment = self._locked_payment(s, payment_id)
            if payment.method == PaymentMethod.CARD:
                raise ValidationError("Refund card payments back to the card from the payment.")
            unapplied = (
                payment.amount_cents
                - payment_allocated(s, payment.id)
                - payment_refunded(s, payment.id)
            )
            if amount_cents <= 0:
                raise ValidationError("Enter an amount greater than zero to refund.", "amount")
            if amount_cents > unapplied:
                raise ValidationError(
                    f"Only {format_money(unapplied, currency)} of this payment is unapplied. "
                    "Unapply it from its invoices first, then refund.",
                    "amount",
                )
            refund = Refund(
                payment_id=payment.id,
                patient_id=payment.patient_id,
                amount_cents=amount_cents,
                method=payment.method,
                reason=reason.strip(),
                created_by_id=actor.staff_id,
                workstation=actor.workstation,
            )
            s.add(refund)
            s.flush()
            audit.record(
                s,
                actor,
                "payment.refunded",
                entity=refund,
                patient_id=payment.patient_id,
                summary=f"Refunded {format_money(amount_cents, currency)} ({payment.method.label})",
                details={"payment": str(payment.id), "amount": amount_cents},
            )
            return refund.id

    # ----- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _check_apply(
        amount: int,
        available: int,
        owing: int,
        invoice: Invoice,
        currency: str,
        what: str = "payment",
    ) -> None:
        if amount <= 0:
            if owing <= 0:
                raise Conflict(f"Invoice {invoice.number} is already paid in full.")
            if available <= 0:
                raise Conflict(f"This {what} has nothing left to apply.")
            raise ValidationError("Enter an amount greater than zero to apply.", "amount")
        if amount > owing:
            raise ValidationError(
                f"Invoice {invoice.number} only has {format_money(owing, currency)} owing; "
                f"apply that much or less.",
                "amount",
            )
        if amount > available:
            raise ValidationError(
                f"Only {format_money(available, currency)} of this {what} is available; "
                "apply that much or less.",
                "amount",
            )

    @staticmethod
    def _allocate(
        s: Session, actor: Actor, payment: Payment, invoice: Invoice, amount: int
    ) -> None:
        s.add(
            Allocation(
                payment_id=payment.id,
                invoice_id=invoice.id,
                patient_id=payment.patient_id,
                amount_cents=amount,
                created_by_id=actor.staff_id,
                workstation=actor.workstation,
            )
        )
        s.flush()

    @staticmethod
    def _locked_payment(s: Session, payment_id: uuid.UUID) -> Payment:
        payment = s.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
        if payment is None:
            raise NotFound("That payment no longer exists.")
        return payment

    @staticmethod
    def _locked_invoice(s: Session, invoice_id: uuid.UUID) -> Invoice:
        invoice = s.scalar(select(Invoice).where(Invoice.id == invoice_id).with_for_update())
        if invoice is None:
            raise NotFound("That invoice no longer exists.")
        return invoice

    def _open_invoice(self, s: Session, invoice_id: uuid.UUID, patient_id: uuid.UUID) -> Invoice:
        invoice = self._locked_invoice(s, invoice_id)
        if invoice.patient_id != patient_id:
            raise ValidationError("That invoice belongs to another patient.")
        if invoice.status != InvoiceStatus.OPEN:
            raise Conflict(f"Invoice {invoice.number} was deleted; nothing can be applied.")
        return invoice

    @staticmethod
    def _credit_sources(s: Session, patient_id: uuid.UUID) -> list[tuple[Payment, int]]:
        payments = list(
            s.scalars(
                select(Payment)
                .where(Payment.patient_id == patient_id)
                .order_by(Payment.received_at, Payment.id)
                .with_for_update()
            )
        )
        allocated = dict(
            s.execute(
                select(Allocation.payment_id, func.sum(Allocation.amount_cents))
                .where(Allocation.patient_id == patient_id)
                .group_by(Allocation.payment_id)
            ).all()
        )
        refunded = dict(
            s.execute(
                select(Refund.payment_id, func.sum(Refund.amount_cents))
                .where(Refund.patient_id == patient_id)
                .group_by(Refund.payment_id)
            ).all()
        )
        sources = []
        for p in payments:
            free = p.amount_cents - int(allocated.get(p.id, 0)) - int(refunded.get(p.id, 0))
            if free > 0:
                sources.append((p, free))
        return sources
