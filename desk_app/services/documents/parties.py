"""Who a document is from, for and about: the clinic's branding, the patient, practitioners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desk_app.models.clinic import Clinic
from desk_app.models.patient import Patient


@dataclass(frozen=True, slots=True)
class Branding:
    """The clinic as its documents show it (from the clinic settings)."""

    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    tax_numbers: str = ""
    logo: bytes | None = None  # PNG or JPEG, checked when it was set
    currency: str = "CAD"
    time_zone: str = "America/Toronto"
    country: str = "CA"


def branding_of(clinic: Clinic) -> Branding:
    return Branding(
        name=clinic.name,
        address=clinic.address,
        phone=clinic.phone,
        email=clinic.email,
        tax_numbers=clinic.tax_numbers,
        logo=clinic.logo_image,
        currency=clinic.currency,
        time_zone=clinic.time_zone,
        country=clinic.country,
    )


@dataclass(frozen=True, slots=True)
class Party:
    """Who a document is for. The birth date is printed only where an insurer needs it."""

    name: str
    date_of_birth: date | None = None
    email: str = ""


def party_of(patient: Patient) -> Party:
    """The patient by legal name: what an insurer matches a claim against."""
    return Party(
        name=patient.legal_name,
        date_of_birth=patient.date_of_birth,
        email=patient.bill_to_email or patient.email,
    )


@dataclass(frozen=True, slots=True)
class Practitioner:
    """Who provided a service, as an insurer needs it: name, title, registration (or NPI)."""

    name: str
    title: str = ""
    registration_number: str = ""

    @property
    def label(self) -> str:
        """'Priya Sharma, PT'."""
        return f"{self.name}, {self.title}" if self.title else self.name
