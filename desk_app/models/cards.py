"""Stripe payment accounts, the patients' Stripe customers and their cards on file.

No secret is stored here: a payment account's secret key lives in the OS keyring under the
account's id (services.secret_store). A card is kept as Stripe ids, brand, last four digits and
expiry only; card numbers never reach our process.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned
from desk_app.models.enums import AccountMode, CollectedBy, str_enum

#: Stripe ids are at most 255 characters.
STRIPE_ID = 255


class PaymentAccount(Versioned, Base):
    """A Stripe account the clinic takes card payments into (per practitioner or location).

    Exactly one active account per clinic is primary: it receives account-credit top-ups.
    The services keep that rule (payment_accounts.PaymentAccountService).
    """

    __tablename__ = "payment_account"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    # Whom the account serves: a practitioner, a location, or (both empty) the whole clinic.
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"))
    is_primary: Mapped[bool] = mapped_column(default=False)
    mode: Mapped[AccountMode] = mapped_column(str_enum(AccountMode))
    publishable_key: Mapped[str] = mapped_column(String(STRIPE_ID))
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)

    @property
    def active(self) -> bool:
        return self.removed_at is None


class StripeCustomer(Versioned, Base):
    """The Stripe customer that holds a patient's cards in one payment account."""

    __tablename__ = "stripe_customer"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    payment_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_account.id"))
    stripe_customer_id: Mapped[str] = mapped_column(String(STRIPE_ID))

    __table_args__ = (
        UniqueConstraint("patient_id", "payment_account_id", name="uq_stripe_customer_patient"),
    )


class CardOnFile(Versioned, Base):
    """A card saved at Stripe for off-session charges. Wallet cards are never saved."""

    __tablename__ = "card_on_file"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    payment_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_account.id"))
    stripe_payment_method_id: Mapped[str] = mapped_column(String(STRIPE_ID), unique=True)
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    added_by: Mapped[CollectedBy] = mapped_column(str_enum(CollectedBy), default=CollectedBy.STAFF)
    added_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)

    __table_args__ = (Index("ix_card_on_file_patient", "patient_id"),)

    @property
    def active(self) -> bool:
        return self.removed_at is None
