"""Payment receipts: which ones a patient has and what each one counts, read off the ledger.

No table holds receipts; they are derived from payments, allocations and refunds every time,
so they can never disagree with the ledger. The rules (My Account > Receipts, as patients
already know it):

- A receipt is one *application* of a payment: the positive allocations of one payment made
  in one action (same workstation and staff member, within ACTION_WINDOW of each other).
- Unapplying part of a payment lowers what its receipt shows as applied: the receipt shows
  what is still applied. An unapply takes from the newest application of that payment to that
  invoice first, so receipts already handed out change as little as possible.
- Unapplying all of it hides the receipt.
- Applying again makes a NEW receipt for what is applied, never a bigger old one.
- What a payment holds as account credit (not applied, not refunded) is on the payment's own
  "payment on account" receipt for as long as any is left: a payment left wholly on account
  has a receipt too, and credit applied later moves from that receipt to a new one.

So every cent paid, less refunds, is on exactly one receipt shown: totals never count a
payment twice.

Numbering: ``R-<workstation>-XXXX-XXXX-XXXX``: the workstation that wrote the receipt's first
row and the first 48 bits of that row's id (the first allocation of the application, or the
payment for an on-account receipt). Ids are random UUIDs made on the workstation, so a number
needs no counter, is the same after every reload and on every desk, and two desks never give
the same one.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, Invoice, InvoiceLine, Payment, Refund
from desk_app.models.clinic import Clinic
from desk_app.models.enums import PaymentMethod
from desk_app.models.staff import Staff
from desk_app.services.actor import Actor
from desk_app.services.clock import to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import NotFound, ValidationError
from desk_app.services.patient_access import require_patient
from desk_app.services.permissions import Permission, require

#: Allocations of one payment written this close together by one person at one desk are one
#: action (recording a payment applies it to each chosen invoice in turn).
ACTION_WINDOW = timedelta(seconds=1)

#: Receipts on one page of the Receipts tab (and in one "Download Page" PDF).
PAGE_SIZE = 10


class ReceiptKind(StrEnum):
    PAYMENT = "payment"  # a payment applied to invoices
    ON_ACCOUNT = "on_account"  # what a payment holds as account credit


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One invoice a receipt's payment is applied to, and how much is applied now."""

    invoice_id: uuid.UUID
    invoice_number: str
    invoice_date: datetime
    description: str
    practitioner: str
    service_date: datetime | None
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Receipt:
    id: uuid.UUID  # the row the receipt starts from: an allocation, or the payment
    number: str
    kind: ReceiptKind
    payment_id: uuid.UUID
    paid_at: datetime  # when the payment was received (receipts are filtered by this)
    applied_at: datetime  # when this application was made; paid_at for credit
    method: PaymentMethod
    reference: str
    payment_cents: int  # the whole payment
    refunded_cents: int  # given back from the payment so far
    amount_cents: int  # what this receipt counts
    lines: tuple[ReceiptLine, ...] = ()
    #: Applied later from the payment's account credit, not when it was received.
    from_credit: bool = False

    @property
    def applied_to(self) -> str:
        """'DESK1-00012, DESK1-00013', or 'Account credit'."""
        if self.kind == ReceiptKind.ON_ACCOUNT:
            return "Account credit"
        return ", ".join(line.invoice_number for line in self.lines)


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    receipts: tuple[Receipt, ...]
    page: int  # 0-based
    page_count: int  # at least 1
    total: int  # receipts matching the filter, on all pages
    #: The clinic bills US insurers: the tab offers superbills.
    offers_superbill: bool

    @property
    def first_shown(self) -> int:
        """1-based position of the first receipt on this page (0 when there are none)."""
        return self.page * PAGE_SIZE + 1 if self.receipts else 0


def receipt_number(workstation: str, row_id: uuid.UUID) -> str:
    digits = row_id.hex[:12].upper()
    return f"R-{workstation}-{digits[:4]}-{digits[4:8]}-{digits[8:]}"


# ----- deriving receipts from ledger facts ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    id: uuid.UUID
    received_at: datetime
    created_at: datetime
    method: PaymentMethod
    amount_cents: int
    reference: str
    workstation: str


@dataclass(frozen=True, slots=True)
class AllocationFacts:
    id: uuid.UUID
    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    amount_cents: int
    created_at: datetime
    created_by_id: uuid.UUID | None
    workstation: str


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    id: uuid.UUID
    number: str
    issued_at: datetime
    description: str
    practitioner: str
    service_date: datetime | None


@dataclass(slots=True)
class _Application:
    """The allocations of one payment made in one action, and what is still applied."""

    first: AllocationFacts
    last_at: datetime
    applied: dict[uuid.UUID, int] = field(default_factory=dict)  # invoice id -> cents

    def takes(self, row: AllocationFacts) -> bool:
        return (
            row.workstation == self.first.workstation
            and row.created_by_id == self.first.created_by_id
            and row.created_at - self.last_at <= ACTION_WINDOW
        )

    def add(self, row: AllocationFacts) -> None:
        self.applied[row.invoice_id] = self.applied.get(row.invoice_id, 0) + row.amount_cents
        self.last_at = max(self.last_at, row.created_at)


def derive_receipts(
    payments: Iterable[PaymentFacts],
    allocations: Iterable[AllocationFacts],
    refunded: Mapping[uuid.UUID, int],
    invoices: Mapping[uuid.UUID, InvoiceFacts],
) -> list[Receipt]:
    """Every receipt the patient has now, newest payment first."""
    by_payment: dict[uuid.UUID, list[AllocationFacts]] = defaultdict(list)
    for row in allocations:
        by_payment[row.payment_id].append(row)
    receipts: list[Receipt] = []
    for payment in payments:
        rows = by_payment.get(payment.id, [])
        applications = _applications(rows)
        refund = refunded.get(payment.id, 0)
        for app in applications:
            receipt = _payment_receipt(payment, app, refund, invoices)
            if receipt is not None:
                receipts.append(receipt)
        credit = payment.amount_cents - refund - sum(r.amount_cents for r in rows)
        if credit > 0:
            receipts.append(
                Receipt(
                    id=payment.id,
                    number=receipt_number(payment.workstation, payment.id),
                    kind=ReceiptKind.ON_ACCOUNT,
                    payment_id=payment.id,
                    paid_at=payment.received_at,
                    applied_at=payment.received_at,
                    method=payment.method,
                    reference=payment.reference,
                    payment_cents=payment.amount_cents,
                    refunded_cents=refund,
                    amount_cents=credit,
                )
            )
    # Newest payment first; within a payment, its newest application first, credit last.
    receipts.sort(
        key=lambda r: (r.paid_at, r.payment_id.hex, r.kind == ReceiptKind.PAYMENT, r.applied_at),
        reverse=True,
    )
    return receipts


def _applications(rows: Sequence[AllocationFacts]) -> list[_Application]:
    """Group a payment's allocations into applications and take each unapply off them."""
    # At the same instant an application sorts before an unapply (one action never does both).
    ordered = sorted(rows, key=lambda r: (r.created_at, r.amount_cents < 0, r.id.hex))
    applications: list[_Application] = []
    current: _Application | None = None
    for row in ordered:
        if row.amount_cents > 0:
            if current is None or not current.takes(row):
                current = _Application(first=row, last_at=row.created_at)
                applications.append(current)
            current.add(row)
            continue
        current = None  # whatever is applied after an unapply is a new receipt
        remaining = -row.amount_cents
        for app in reversed(applications):  # newest first
            held = app.applied.get(row.invoice_id, 0)
            take = min(held, remaining)
            if take > 0:
                app.applied[row.invoice_id] = held - take
                remaining -= take
            if remaining == 0:
                break
    return applications


def _payment_receipt(
    payment: PaymentFacts,
    app: _Application,
    refunded: int,
    invoices: Mapping[uuid.UUID, InvoiceFacts],
) -> Receipt | None:
    lines = []
    for invoice_id, cents in app.applied.items():
        if cents <= 0:
            continue
        invoice = invoices.get(invoice_id)
        if invoice is None:
            continue
        lines.append(
            ReceiptLine(
                invoice_id=invoice_id,
                invoice_number=invoice.number,
                invoice_date=invoice.issued_at,
                description=invoice.description,
                practitioner=invoice.practitioner,
                service_date=invoice.service_date,
                amount_cents=cents,
            )
        )
    if not lines:
        return None  # wholly unapplied: the old receipt is hidden
    lines.sort(key=lambda line: (line.invoice_date, line.invoice_number))
    return Receipt(
        id=app.first.id,
        number=receipt_number(app.first.workstation, app.first.id),
        kind=ReceiptKind.PAYMENT,
        payment_id=payment.id,
        paid_at=payment.received_at,
        applied_at=app.first.created_at,
        method=payment.method,
        reference=payment.reference,
        payment_cents=payment.amount_cents,
        refunded_cents=refunded,
        amount_cents=sum(line.amount_cents for line in lines),
        lines=tuple(lines),
        from_credit=app.first.created_at - payment.created_at > ACTION_WINDOW,
    )


# ----- reading them from the database ---------------------------------------------------------


def practitioner_name(first: str, last: str, title: str) -> str:
    name = f"{first} {last}".strip()
    return f"{name}, {title}" if title else name


def invoice_facts(
    s: Session,
    patient_id: uuid.UUID,
    invoice_ids: Collection[uuid.UUID] | None = None,
    *,
    details: bool = True,
) -> dict[uuid.UUID, InvoiceFacts]:
    """The patient's invoices (or those of `invoice_ids`) as a receipt names them.

    Without `details` only the number and date are read (enough to count and sort receipts);
    with them, the first item, the practitioner and the service date as well.
    """
    if invoice_ids is not None and not invoice_ids:
        return {}
    only = [Invoice.id.in_(list(invoice_ids))] if invoice_ids is not None else []
    invoices = s.execute(
        select(Invoice.id, Invoice.workstation, Invoice.seq, Invoice.issued_at).where(
            Invoice.patient_id == patient_id, *only
        )
    ).all()
    by_invoice: dict[uuid.UUID, list[tuple[str, datetime | None, str]]] = defaultdict(list)
    if details:
        lines = s.execute(
            select(
                InvoiceLine.invoice_id,
                InvoiceLine.position,
                InvoiceLine.description,
                InvoiceLine.service_date,
                Staff.first_name,
                Staff.last_name,
                Staff.title,
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .outerjoin(Staff, Staff.id == InvoiceLine.practitioner_id)
            .where(Invoice.patient_id == patient_id, *only)
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        ).all()
        for invoice_id, _pos, description, service_date, first, last, title in lines:
            who = practitioner_name(first, last, title or "") if first is not None else ""
            by_invoice[invoice_id].append((description, service_date, who))
    facts = {}
    for invoice_id, workstation, seq, issued_at in invoices:
        items = by_invoice.get(invoice_id, [])
        description = items[0][0] if items else ""
        if len(items) > 1:
            more = len(items) - 1
            description += f" and {more} more item{'s' if more > 1 else ''}"
        facts[invoice_id] = InvoiceFacts(
            id=invoice_id,
            number=f"{workstation}-{seq:05d}",
            issued_at=issued_at,
            description=description,
            practitioner=next((who for _d, _s, who in items if who), ""),
            service_date=next((when for _d, when, _w in items if when is not None), None),
        )
    return facts


def load_receipts(
    s: Session,
    patient_id: uuid.UUID,
    payment_ids: Collection[uuid.UUID] | None = None,
    *,
    details: bool = True,
) -> list[Receipt]:
    """The patient's receipts (only those of `payment_ids`, when given), newest payment first.

    Without `details` their lines carry invoice numbers but no item or practitioner: enough to
    list, count and page them; `with_details` fills in the ones shown.
    """
    only_payments = [Payment.id.in_(list(payment_ids))] if payment_ids is not None else []
    only_allocated = (
        [Allocation.payment_id.in_(list(payment_ids))] if payment_ids is not None else []
    )
    only_refunded = [Refund.payment_id.in_(list(payment_ids))] if payment_ids is not None else []
    payments = [
        PaymentFacts(*row)
        for row in s.execute(
            select(
                Payment.id,
                Payment.received_at,
                Payment.created_at,
                Payment.method,
                Payment.amount_cents,
                Payment.reference,
                Payment.workstation,
            ).where(Payment.patient_id == patient_id, *only_payments)
        )
    ]
    allocations = [
        AllocationFacts(*row)
        for row in s.execute(
            select(
                Allocation.id,
                Allocation.payment_id,
                Allocation.invoice_id,
                Allocation.amount_cents,
                Allocation.created_at,
                Allocation.created_by_id,
                Allocation.workstation,
            ).where(Allocation.patient_id == patient_id, *only_allocated)
        )
    ]
    refunded = {
        pid: int(total)
        for pid, total in s.execute(
            select(Refund.payment_id, func.sum(Refund.amount_cents))
            .where(Refund.patient_id == patient_id, *only_refunded)
            .group_by(Refund.payment_id)
        )
    }
    invoice_ids = {a.invoice_id for a in allocations} if payment_ids is not None else None
    facts = invoice_facts(s, patient_id, invoice_ids, details=details)
    return derive_receipts(payments, allocations, refunded, facts)


def with_details(s: Session, patient_id: uuid.UUID, receipts: Sequence[Receipt]) -> list[Receipt]:
    """`receipts` with each line's item, practitioner and service date filled in."""
    ids = {line.invoice_id for receipt in receipts for line in receipt.lines}
    facts = invoice_facts(s, patient_id, ids)
    detailed = []
    for receipt in receipts:
        lines = []
        for line in receipt.lines:
            known = facts.get(line.invoice_id)
            lines.append(
                line
                if known is None
                else replace(
                    line,
                    description=known.description,
                    practitioner=known.practitioner,
                    service_date=known.service_date,
                )
            )
        detailed.append(replace(receipt, lines=tuple(lines)))
    return detailed


def in_period(moment: datetime, time_zone: str, start: date | None, end: date | None) -> bool:
    """Whether `moment` falls on a clinic day from `start` to `end` (either may be open)."""
    day = to_clinic_time(moment, time_zone).date()
    return (start is None or day >= start) and (end is None or day <= end)


def check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationError(
            "The From date is after the To date; swap them or clear one.", "period"
        )


class ReceiptsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        start: date | None = None,
        end: date | None = None,
        page: int = 0,
    ) -> ReceiptPage:
        """One page of the patient's receipts paid from `start` to `end` (blank: all).

        A page past the end shows the last page (a filter may have left fewer receipts).
        """
        require(actor, Permission.VIEW_PATIENTS)
        check_period(start, end)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            clinic = s.get(Clinic, actor.clinic_id)
            if clinic is None:
                raise NotFound("This workstation's clinic is missing from the database.")
            matching = [
                r
                for r in load_receipts(s, patient_id, details=False)
                if in_period(r.paid_at, clinic.time_zone, start, end)
            ]
            page_count = max(1, math.ceil(len(matching) / PAGE_SIZE))
            page = min(max(page, 0), page_count - 1)
            shown = with_details(s, patient_id, matching[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])
            return ReceiptPage(
                receipts=tuple(shown),
                page=page,
                page_count=page_count,
                total=len(matching),
                offers_superbill=clinic.country == "US",
            )

    def receipts(self, actor: Actor, patient_id: uuid.UUID) -> list[Receipt]:
        """Every receipt of the patient, newest payment first."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            return load_receipts(s, patient_id)
