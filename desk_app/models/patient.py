"""Patients and the search tokens that make type-ahead search fast."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned


class Patient(Versioned, Base):
    __tablename__ = "patient"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), index=True)
    legal_first_name: Mapped[str] = mapped_column(String(200))
    legal_last_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str] = mapped_column(String(200), default="")
    pronouns: Mapped[str] = mapped_column(String(60), default="")
    date_of_birth: Mapped[date | None] = mapped_column(default=None)
    mobile_phone: Mapped[str] = mapped_column(String(32), default="")
    home_phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    household_contact_name: Mapped[str] = mapped_column(String(200), default="")
    household_contact_email: Mapped[str] = mapped_column(String(254), default="")
    bill_to_name: Mapped[str] = mapped_column(String(200), default="")
    bill_to_email: Mapped[str] = mapped_column(String(254), default="")
    consent_texts: Mapped[bool] = mapped_column(default=False)
    consent_emails: Mapped[bool] = mapped_column(default=False)
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(default=False)
    # Lower-cased, accent-free "last first" for ordering search results.
    sort_key: Mapped[str] = mapped_column(String(420), default="", index=True)

    @property
    def display_name(self) -> str:
        """The name staff call the patient by: preferred first name, legal last name."""
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}".strip()

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}".strip()


class PatientSearchToken(Base):
    """One searchable word of a patient: a name part, email, phone digits or date of birth.

    Derived from the patient row (services.search_tokens rebuilds it); never synchronised.
    Prefix queries on (token) are an index range scan on SQLite and PostgreSQL alike.
    """

    __tablename__ = "patient_search_token"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )
    # Byte-order collation on PostgreSQL so prefix ranges mean the same as on SQLite.
    token: Mapped[str] = mapped_column(
        String(254).with_variant(String(254, collation="C"), "postgresql"), primary_key=True
    )

    __table_args__ = (Index("ix_patient_search_token_token", "token", "patient_id"),)
