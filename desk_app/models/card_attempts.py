"""Attempts to move money through Stripe: the rows that make charges and refunds exactly-once.

An attempt is committed, with its idempotency key, BEFORE the Stripe call. Its status then
tells what is known about that call (docs/STRIPE.md):

    pending -> succeeded | failed | requires_action | unknown
    unknown -> succeeded | failed            (by reconciling with Stripe, never by guessing)

While an attempt is pending or unknown, the patient cannot be charged again (and the payment
cannot be refunded again) until it is settled.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import AppendOnly, Base, Versioned
from desk_app.models.cards import STRIPE_ID
from desk_app.models.enums import AttemptPurpose, AttemptStatus, CollectedBy, str_enum


class ChargeAttempt(Versioned, Base):
    __tablename__ = "charge_attempt"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    payment_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_account.id"))
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card_on_file.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    purpose: Mapped[AttemptPurpose] = mapped_column(str_enum(AttemptPurpose))
    # Sent as Stripe's Idempotency-Key; also what makes a repeated request (double-click) one.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(
        str_enum(AttemptStatus), default=AttemptStatus.PENDING
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(STRIPE_ID), default=None)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(STRIPE_ID), default=None)
    failure_code: Mapped[str] = mapped_column(String(64), default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    # The payment this attempt recorded, once it succeeded.
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"), default=None)
    collected_by: Mapped[CollectedBy] = mapped_column(
        str_enum(CollectedBy), default=CollectedBy.STAFF
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))
    settled_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_charge_attempt_patient_status", "patient_id", "status"),
        Index("ix_charge_attempt_status", "status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )


class ChargeAttemptInvoice(AppendOnly, Base):
    """What a charge attempt means to pay on one invoice (the rest of it becomes credit)."""

    __tablename__ = "charge_attempt_invoice"

    attempt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charge_attempt.id"), index=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    position: Mapped[int]
    amount_cents: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)


class RefundAttempt(Versioned, Base):
    """A refund of a card payment back to the card: the same protocol as a charge."""

    __tablename__ = "refund_attempt"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment.id"), index=True)
    payment_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_account.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(
        str_enum(AttemptStatus), default=AttemptStatus.PENDING
    )
    stripe_refund_id: Mapped[str | None] = mapped_column(String(STRIPE_ID), default=None)
    failure_code: Mapped[str] = mapped_column(String(64), default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    refund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refund.id"), default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))
    settled_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_refund_attempt_status", "status"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )
