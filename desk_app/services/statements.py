"""A statement of account: what a patient was charged and paid over a period.

The account balance at any moment is what was invoiced (open invoices) less what was paid,
plus what was refunded: positive is owing, negative is credit held. A statement shows the
balance at the start of the period (opening), every invoice, payment and refund in it with the
running balance, and the balance at the end (closing). Applying a payment to an invoice moves
no money, so it is not a statement line. A deleted invoice was never owed: it is left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import Invoice, InvoiceLine, Payment, Refund
from desk_app.models.enums import InvoiceStatus
from desk_app.services.clock import clinic_local_to_utc


class EntryKind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class StatementEntry:
    at: datetime
    kind: EntryKind
    reference: str  # invoice number, or the payment's method and reference
    description: str
    charge_cents: int  # invoices and refunds raise the balance
    payment_cents: int  # payments lower it
    balance_cents: int  # after this entry


@dataclass(frozen=True, slots=True)
class Statement:
    start: date  # clinic days, both included
    end: date
    opening_cents: int
    entries: tuple[StatementEntry, ...]

    @property
    def charges_cents(self) -> int:
        return sum(e.charge_cents for e in self.entries if e.kind == EntryKind.INVOICE)

    @property
    def payments_cents(self) -> int:
        return sum(e.payment_cents for e in self.entries)

    @property
    def refunds_cents(self) -> int:
        return sum(e.charge_cents for e in self.entries if e.kind == EntryKind.REFUND)

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + sum(e.charge_cents - e.payment_cents for e in self.entries)


def period_bounds(start: date, end: date, time_zone: str) -> tuple[datetime, datetime]:
    """The UTC moments the clinic days `start`..`end` (both included) begin and end."""
    first = clinic_local_to_utc(datetime.combine(start, time()), time_zone)
    after = clinic_local_to_utc(datetime.combine(end + timedelta(days=1), time()), time_zone)
    return first, after


def balance_before(s: Session, patient_id: uuid.UUID, moment: datetime) -> int:
    invoiced = s.scalar(
        select(func.coalesce(func.sum(Invoice.total_cents), 0)).where(
            Invoice.patient_id == patient_id,
            Invoice.status == InvoiceStatus.OPEN,
            Invoice.issued_at < moment,
        )
    )
    paid = s.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.patient_id == patient_id, Payment.received_at < moment
        )
    )
    refunded = s.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.patient_id == patient_id, Refund.created_at < moment
        )
    )
    return int(invoiced or 0) - int(paid or 0) + int(refunded or 0)


def load_statement(
    s: Session, patient_id: uuid.UUID, start: date, end: date, time_zone: str
) -> Statement:
    first, after = period_bounds(start, end, time_zone)
    raw: list[tuple[datetime, int, EntryKind, str, str, int, int]] = []
    descriptions = dict(
        s.execute(
            select(InvoiceLine.invoice_id, InvoiceLine.description)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                Invoice.patient_id == patient_id,
                InvoiceLine.position == 0,
                Invoice.issued_at >= first,
                Invoice.issued_at < after,
            )
        ).all()
    )
    counts = dict(
        s.execute(
            select(InvoiceLine.invoice_id, func.count())
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                Invoice.patient_id == patient_id,
                Invoice.issued_at >= first,
                Invoice.issued_at < after,
            )
            .group_by(InvoiceLine.invoice_id)
        ).all()
    )
    for invoice in s.scalars(
        select(Invoice).where(
            Invoice.patient_id == patient_id,
            Invoice.status == InvoiceStatus.OPEN,
            Invoice.issued_at >= first,
            Invoice.issued_at < after,
        )
    ):
        description = descriptions.get(invoice.id, "")
        more = int(counts.get(invoice.id, 1)) - 1
        if more > 0:
            description += f" and {more} more item{'s' if more > 1 else ''}"
        raw.append(
            (invoice.issued_at, 0, EntryKind.INVOICE, invoice.number, description,
             invoice.total_cents, 0)
        )  # fmt: skip
    for payment in s.scalars(
        select(Payment).where(
            Payment.patient_id == patient_id,
            Payment.received_at >= first,
            Payment.received_at < after,
        )
    ):
        reference = payment.method.label + (f" {payment.reference}" if payment.reference else "")
        raw.append(
            (payment.received_at, 1, EntryKind.PAYMENT, reference, "Payment received — thank you",
             0, payment.amount_cents)
        )  # fmt: skip
    for refund, method in s.execute(
        select(Refund, Payment.method)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.patient_id == patient_id,
            Refund.created_at >= first,
            Refund.created_at < after,
        )
    ):
        raw.append(
            (refund.created_at, 2, EntryKind.REFUND, method.label, "Refund", refund.amount_cents, 0)
        )
    raw.sort(key=lambda r: (r[0], r[1], r[3]))
    opening = balance_before(s, patient_id, first)
    balance = opening
    entries = []
    for at, _order, kind, reference, description, charge, paid in raw:
        balance += charge - paid
        entries.append(StatementEntry(at, kind, reference, description, charge, paid, balance))
    return Statement(start, end, opening, tuple(entries))
