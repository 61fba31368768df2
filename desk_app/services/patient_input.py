"""Checking and tidying what staff type into a patient's details."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date

from desk_app.services.errors import ValidationError
from desk_app.services.search_tokens import digits

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_SPACES = re.compile(r"\s+")
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class PatientInput:
    """A patient's details as typed; `clean_patient_input` checks and tidies them."""

    legal_first_name: str
    legal_last_name: str
    preferred_name: str = ""
    pronouns: str = ""
    date_of_birth: date | None = None
    mobile_phone: str = ""
    home_phone: str = ""
    email: str = ""
    household_contact_name: str = ""
    household_contact_email: str = ""
    bill_to_name: str = ""
    bill_to_email: str = ""
    consent_texts: bool = False
    consent_emails: bool = False
    marketing_opt_in: bool = False

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_LABELS = {
    "legal_first_name": "Legal first name",
    "legal_last_name": "Legal last name",
    "preferred_name": "Preferred name",
    "pronouns": "Pronouns",
    "household_contact_name": "Household contact",
    "bill_to_name": "Bill-to name",
    "email": "Email",
    "household_contact_email": "Household contact email",
    "bill_to_email": "Bill-to email",
    "mobile_phone": "Mobile phone",
    "home_phone": "Home phone",
}


def clean_text(value: str, field: str, *, required: bool = False, limit: int = MAX_NAME) -> str:
    label = _LABELS.get(field, field.replace("_", " ").capitalize())
    # Pasted text brings tabs, non-breaking spaces and stray control characters.
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in value)
    text = unicodedata.normalize("NFC", _SPACES.sub(" ", text).strip())
    if required and not text:
        raise ValidationError(f"{label} is required.", field)
    if len(text) > limit:
        raise ValidationError(f"{label} is too long: keep it under {limit} characters.", field)
    return text


def clean_email(value: str, field: str) -> str:
    text = clean_text(value, field, limit=254).replace(" ", "")
    if text and not _EMAIL.match(text):
        raise ValidationError(
            f"{_LABELS[field]} “{text}” is not an email address; it should look like "
            "name@example.com.",
            field,
        )
    return text.lower() if text else ""


def clean_phone(value: str, field: str) -> str:
    text = clean_text(value, field, limit=32)
    if not text:
        return ""
    if re.search(r"[^\d\s\-().+/x]", text, flags=re.IGNORECASE):
        raise ValidationError(
            f"{_LABELS[field]} “{text}” has letters in it; type digits only, "
            "for example 416-555-0123.",
            field,
        )
    n = len(digits(text))
    if n < 7 or n > 15:
        raise ValidationError(
            f"{_LABELS[field]} “{text}” has {n} digits; a phone number has 7 to 15.", field
        )
    return text


def clean_patient_input(data: PatientInput, today: date) -> PatientInput:
    dob = data.date_of_birth
    if dob is not None and dob > today:
        raise ValidationError("Date of birth cannot be in the future.", "date_of_birth")
    if dob is not None and dob.year < 1900:
        raise ValidationError("Date of birth is before 1900; check the year.", "date_of_birth")
    return PatientInput(
        legal_first_name=clean_text(data.legal_first_name, "legal_first_name", required=True),
        legal_last_name=clean_text(data.legal_last_name, "legal_last_name", required=True),
        preferred_name=clean_text(data.preferred_name, "preferred_name"),
        pronouns=clean_text(data.pronouns, "pronouns", limit=60),
        date_of_birth=dob,
        mobile_phone=clean_phone(data.mobile_phone, "mobile_phone"),
        home_phone=clean_phone(data.home_phone, "home_phone"),
        email=clean_email(data.email, "email"),
        household_contact_name=clean_text(data.household_contact_name, "household_contact_name"),
        household_contact_email=clean_email(
            data.household_contact_email, "household_contact_email"
        ),
        bill_to_name=clean_text(data.bill_to_name, "bill_to_name"),
        bill_to_email=clean_email(data.bill_to_email, "bill_to_email"),
        consent_texts=bool(data.consent_texts),
        consent_emails=bool(data.consent_emails),
        marketing_opt_in=bool(data.marketing_opt_in),
    )
