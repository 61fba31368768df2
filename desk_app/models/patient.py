"""Patients and the search tokens that make type-ahead search fast."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned

# Byte-order collation on PostgreSQL, so prefix ranges and name order mean the same as on
# SQLite (which compares text byte by byte).
TOKEN_TYPE = String(254).with_variant(String(254, collation="C"), "postgresql")
SORT_KEY_TYPE = String(420).with_variant(String(420, collation="C"), "postgresql")
PREFIX_TYPE = String(16).with_variant(String(16, collation="C"), "postgresql")


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
    # Lower-cased, accent-free "last first" for ordering search results (kept, with the
    # search tokens, by services.patients.refresh_search_tokens).
    sort_key: Mapped[str] = mapped_column(SORT_KEY_TYPE, default="")

    __table_args__ = (
        # The patients search can show, in name order: search reads them in this order
        # without opening their rows.
        Index(
            "ix_patient_name_order",
            "sort_key",
            "id",
            sqlite_where=text("archived IS 0"),
            postgresql_where=text("archived IS false"),
        ),
        # Only the archived patients (normally none): search leaves them out with one look
        # here instead of reading each candidate's row.
        Index(
            "ix_patient_archived",
            "id",
            sqlite_where=text("archived IS 1"),
            postgresql_where=text("archived IS true"),
        ),
    )

    @property
    def display_name(self) -> str:
        """The name staff call the patient by: preferred first name, legal last name."""
        return display_name_of(self.legal_first_name, self.legal_last_name, self.preferred_name)

    @property
    def legal_name(self) -> str:
        return legal_name_of(self.legal_first_name, self.legal_last_name)


def display_name_of(legal_first_name: str, legal_last_name: str, preferred_name: str) -> str:
    """Patient.display_name from the column values (for reads that select columns)."""
    return f"{preferred_name or legal_first_name} {legal_last_name}".strip()


def legal_name_of(legal_first_name: str, legal_last_name: str) -> str:
    """Patient.legal_name from the column values."""
    return f"{legal_first_name} {legal_last_name}".strip()


class PatientSearchToken(Base):
    """One searchable word of a patient: a name part, email, phone digits or date of birth.

    Derived from the patient row (services.patients.refresh_search_tokens rebuilds it, with a
    copy of the patient's sort key); never synchronised. Prefix queries on (token) are an
    index range scan on SQLite and PostgreSQL alike, and the index also holds the sort key, so
    "the first patients in name order with a token starting with X" needs no patient row.
    """

    __tablename__ = "patient_search_token"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(TOKEN_TYPE, primary_key=True)
    # The patient's sort_key, copied.
    sort_key: Mapped[str] = mapped_column(SORT_KEY_TYPE, default="")

    __table_args__ = (Index("ix_patient_search_token_token", "token", "sort_key", "patient_id"),)


class PatientSearchPrefix(Base):
    """One patient under one short prefix of their words, kept in name order per prefix.

    For every search token, its first 1 to PREFIX_LENGTH characters
    (services.search_tokens.prefixes_of), one row per patient and prefix. The primary key is
    (prefix, sort_key, patient_id), so the patients under "s" are stored in the order the
    search list shows them: "the first 50 patients matching both "liam" and "s"" is a merge
    of two lists read in order, stopping at the 50th match, instead of a probe per patient.
    Derived like the tokens (written beside them, from the same rule); never synchronised.
    A table without rowid on SQLite: the key is the table.
    """

    __tablename__ = "patient_search_prefix"

    prefix: Mapped[str] = mapped_column(PREFIX_TYPE, primary_key=True)
    # The patient's sort_key, copied (as on the tokens).
    sort_key: Mapped[str] = mapped_column(SORT_KEY_TYPE, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = {"sqlite_with_rowid": False}
