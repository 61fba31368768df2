"""What an insurer needs about services billed: each line with who provided it, when, its
price and tax, and the payments applied. Read for detailed invoice receipts and superbills."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, Invoice, InvoiceLine, Payment
from desk_app.models.enums import InvoiceStatus, PaymentMethod
from desk_app.models.staff import Staff
from desk_app.services.documents.parties import Practitioner

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ServiceLine:
    invoice_id: uuid.UUID
    invoice_number: str
    service_date: datetime | None
    description: str
    practitioner: Practitioner | None
    quantity: int
    unit_price_cents: int
    tax_rate_bp: int
    subtotal_cents: int
    tax_cents: int
    total_cents: int


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """A payment and how much of it is applied (net of unapplies) to the invoices in view."""

    payment_id: uuid.UUID
    paid_at: datetime
    method: PaymentMethod
    reference: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    id: uuid.UUID
    patient_id: uuid.UUID
    number: str
    issued_at: datetime
    status: InvoiceStatus
    lines: tuple[ServiceLine, ...]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    payments: tuple[AppliedPayment, ...]

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents

    @property
    def practitioners(self) -> tuple[Practitioner, ...]:
        return unique_practitioners(self.lines)


def unique_practitioners(lines: Sequence[ServiceLine]) -> tuple[Practitioner, ...]:
    seen: dict[Practitioner, None] = {}
    for line in lines:
        if line.practitioner is not None:
            seen.setdefault(line.practitioner, None)
    return tuple(seen)


def service_lines(s: Session, invoice_ids: Sequence[uuid.UUID]) -> list[ServiceLine]:
    """The lines of these invoices, in invoice order then position, with their practitioner."""
    if not invoice_ids:
        return []
    rows = s.execute(
        select(InvoiceLine, Invoice.workstation, Invoice.seq, Staff)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(Staff, Staff.id == InvoiceLine.practitioner_id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .order_by(Invoice.issued_at, Invoice.seq, InvoiceLine.position)
    ).all()
    lines = []
    for line, workstation, seq, staff in rows:
        who = (
            Practitioner(staff.full_name, staff.title, staff.registration_number)
            if staff is not None
            else None
        )
        lines.append(
            ServiceLine(
                invoice_id=line.invoice_id,
                invoice_number=f"{workstation}-{seq:05d}",
                service_date=line.service_date,
                description=line.description,
                practitioner=who,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
                tax_rate_bp=line.tax_rate_bp,
                subtotal_cents=line.subtotal_cents,
                tax_cents=line.tax_cents,
                total_cents=line.total_cents,
            )
        )
    return lines


def applied_payments(s: Session, invoice_ids: Sequence[uuid.UUID]) -> list[AppliedPayment]:
    """Each payment with something applied (net) to these invoices, oldest first."""
    if not invoice_ids:
        return []
    net = func.sum(Allocation.amount_cents)
    rows = s.execute(
        select(Payment.id, Payment.received_at, Payment.method, Payment.reference, net)
        .join(Allocation, Allocation.payment_id == Payment.id)
        .where(Allocation.invoice_id.in_(invoice_ids))
        .group_by(Payment.id, Payment.received_at, Payment.method, Payment.reference)
        .having(net > 0)
        .order_by(Payment.received_at)
    ).all()
    return [
        AppliedPayment(pid, at, method, ref, int(amount)) for pid, at, method, ref, amount in rows
    ]


def load_invoice_detail(s: Session, invoice_id: uuid.UUID) -> InvoiceDetail | None:
    invoice = s.get(Invoice, invoice_id)
    if invoice is None:
        return None
    return InvoiceDetail(
        id=invoice.id,
        patient_id=invoice.patient_id,
        number=invoice.number,
        issued_at=invoice.issued_at,
        status=invoice.status,
        lines=tuple(service_lines(s, [invoice.id])),
        subtotal_cents=invoice.subtotal_cents,
        tax_cents=invoice.tax_cents,
        total_cents=invoice.total_cents,
        payments=tuple(applied_payments(s, [invoice.id])),
    )


@dataclass(frozen=True, slots=True)
class ServicesInPeriod:
    """The services a patient was billed for between two moments (a superbill's body)."""

    lines: tuple[ServiceLine, ...]
    payments: tuple[AppliedPayment, ...]

    @property
    def charges_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def practitioners(self) -> tuple[Practitioner, ...]:
        return unique_practitioners(self.lines)


def services_in_period(
    s: Session, patient_id: uuid.UUID, start: datetime, end: datetime
) -> ServicesInPeriod:
    """Services on the patient's open invoices dated from `start` up to (not including) `end`.

    An invoice counts when any of its lines was provided in the period (a line without a
    service date counts on the invoice's date).
    """
    when = func.coalesce(InvoiceLine.service_date, Invoice.issued_at)
    invoice_ids = list(
        s.scalars(
            select(Invoice.id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(
                Invoice.patient_id == patient_id,
                Invoice.status == InvoiceStatus.OPEN,
                when >= start,
                when < end,
            )
            .distinct()
        )
    )
    lines = service_lines(s, invoice_ids)
    # By date of service (every line the desk writes has one).
    lines.sort(key=lambda line: (line.service_date or _EPOCH, line.invoice_number))
    return ServicesInPeriod(tuple(lines), tuple(applied_payments(s, invoice_ids)))
