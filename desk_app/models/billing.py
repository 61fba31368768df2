"""Invoices, payments, allocations and refunds: the money ledger.

Payments, allocations and refunds are append-only: an unapply is a new negative allocation,
never an edit. Balances and credit are derived from these rows:

    balance owing = open invoice totals - allocations to them
    available credit = payments - allocations - refunds
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import AppendOnly, Base, Versioned
from desk_app.models.enums import (
    CollectedBy,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    str_enum,
)


class Invoice(Versioned, Base):
    """An invoice; its lines never change after it is issued, so its totals are stored."""

    __tablename__ = "invoice"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    # The number printed on receipts: the workstation's code and its own sequence, so two
    # offline desks never hand out the same number.
    workstation: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int]
    issued_at: Mapped[datetime]
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus), default=InvoiceStatus.OPEN
    )
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)

    __table_args__ = (
        UniqueConstraint("workstation", "seq", name="uq_invoice_workstation_seq"),
        Index("ix_invoice_patient_issued", "patient_id", "issued_at"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
    )

    @property
    def number(self) -> str:
        return invoice_number(self.workstation, self.seq)


def invoice_number(workstation: str, seq: int) -> str:
    """Invoice.number from the column values (for reads that select columns)."""
    return f"{workstation}-{seq:05d}"


class InvoiceLine(AppendOnly, Base):
    __tablename__ = "invoice_line"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int]
    kind: Mapped[LineKind] = mapped_column(str_enum(LineKind))
    description: Mapped[str] = mapped_column(String(300))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointment.id"), index=True
    )
    treatment_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_type.id"))
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    # The rendering practitioner: who provided the service.
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    service_date: Mapped[datetime | None]
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(default=0)
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    income_category: Mapped[str] = mapped_column(String(120), default="")


class Payment(AppendOnly, Base):
    __tablename__ = "payment"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    collected_by: Mapped[CollectedBy] = mapped_column(
        str_enum(CollectedBy), default=CollectedBy.STAFF
    )
    collected_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    # The Stripe-backed payment account that received the money (card payments).
    payment_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_account.id"), default=None
    )
    # Unique, so a card payment observed twice (two desks, a retry, a reconcile) is recorded once.
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(
        String(255), unique=True, default=None
    )
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    reference: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    workstation: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_payment_patient_received", "patient_id", "received_at"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )


class Allocation(AppendOnly, Base):
    """A payment applied to an invoice (positive) or unapplied from it (negative)."""

    __tablename__ = "allocation"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment.id"), index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    # Denormalised so a patient's ledger is read with one indexed query.
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))

    __table_args__ = (CheckConstraint("amount_cents <> 0", name="amount_not_zero"),)


class Refund(AppendOnly, Base):
    """Money given back from a payment's unapplied amount."""

    __tablename__ = "refund"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))
    # A refund back to a card: the Stripe refund's id, unique so it is recorded once.
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)

    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)
