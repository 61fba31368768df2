"""The clinic, its locations and its settings."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned


class Clinic(Versioned, Base):
    __tablename__ = "clinic"

    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2), default="CA")
    tax_numbers: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # Settings > Clinic Info & Locations > Client Pronouns
    show_pronouns: Mapped[bool] = mapped_column(default=True)
    # Settings > Billing Settings > Enable Add Account Credit
    enable_add_account_credit: Mapped[bool] = mapped_column(default=False)
    # Minutes of inactivity before the desk locks (hardened in the security issue).
    idle_lock_minutes: Mapped[int] = mapped_column(default=15)
    # Branding on receipts: a PNG or JPEG, at most a few hundred KB (checked by the service).
    logo_image: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The workstation that invoices and charges memberships on schedule; "" until the first
    # desk to run the schedule claims it. One desk, so two desks never bill one period twice.
    membership_billing_workstation: Mapped[str] = mapped_column(
        String(64), default="", server_default=""
    )


class Location(Versioned, Base):
    __tablename__ = "location"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    archived: Mapped[bool] = mapped_column(default=False)
