"""Creating a new clinic with its first location and Full Access user."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import Role
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.auth import actor_for, check_new_password, hash_password
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, ValidationError
from desk_app.services.patient_input import clean_email, clean_phone, clean_text

SUPPORTED_CURRENCIES = ("CAD", "USD", "AUD", "NZD", "GBP", "EUR")
_USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")


@dataclass(frozen=True)
class ClinicDetails:
    """Step 1 of setting up: the clinic as patients' receipts will show it."""

    clinic_name: str
    time_zone: str
    currency: str
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class FirstLocation:
    """Step 2: where the clinic sees patients (more can be added later)."""

    location_name: str
    location_address: str = ""
    location_phone: str = ""


@dataclass(frozen=True)
class FirstUser:
    """Step 3: the person setting up, who becomes the first Full Access user."""

    first_name: str
    last_name: str
    username: str
    password: str


def _renamed(error: ValidationError, field: str) -> ValidationError:
    """A patient-field message (“Mobile phone …”) for one of the clinic's own fields."""
    return ValidationError(error.message.replace("Mobile phone", "Phone", 1), field)


def clean_address(value: str, field: str) -> str:
    """An address keeps its lines (receipts print them as typed); each line is cleaned."""
    lines = [clean_text(line, field, limit=200) for line in value.splitlines()]
    address = "\n".join(line for line in lines if line)
    if len(address) > 500:
        raise ValidationError("The address is too long: keep it under 500 characters.", field)
    return address


def check_clinic_details(details: ClinicDetails) -> ClinicDetails:
    """The details cleaned, or a ValidationError naming the field to change."""
    name = clean_text(details.clinic_name, "clinic name", required=True)
    try:
        ZoneInfo(details.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"“{details.time_zone}” is not a time zone; choose one from the list, "
            "for example America/Toronto.",
            "time_zone",
        ) from None
    if details.currency not in SUPPORTED_CURRENCIES:
        raise ValidationError("Choose the clinic's currency from the list.", "currency")
    try:
        phone = clean_phone(details.phone, "mobile_phone")
    except ValidationError as exc:
        raise _renamed(exc, "clinic_phone") from None
    try:
        email = clean_email(details.email, "email")
    except ValidationError as exc:
        raise _renamed(exc, "clinic_email") from None
    address = clean_address(details.address, "clinic_address")
    return replace(details, clinic_name=name, phone=phone, email=email, address=address)


def check_location(location: FirstLocation) -> FirstLocation:
    name = clean_text(location.location_name, "location name", required=True)
    address = clean_address(location.location_address, "location_address")
    try:
        phone = clean_phone(location.location_phone, "mobile_phone")
    except ValidationError as exc:
        raise _renamed(exc, "location_phone") from None
    return FirstLocation(name, address, phone)


def check_first_user(user: FirstUser) -> FirstUser:
    first = clean_text(user.first_name, "first name", required=True)
    last = clean_text(user.last_name, "last name", required=True)
    username = user.username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            "A username is 3 to 40 letters, digits, dots, dashes or underscores, with no spaces.",
            "username",
        )
    check_new_password(user.password)
    return FirstUser(first, last, username, user.password)


def create_clinic(
    db: Database,
    *,
    clinic_name: str,
    time_zone: str,
    currency: str,
    location_name: str,
    first_name: str,
    last_name: str,
    username: str,
    password: str,
    workstation: str,
    phone: str = "",
    email: str = "",
    address: str = "",
    location_address: str = "",
    location_phone: str = "",
) -> uuid.UUID:
    """Create the clinic, one location and its first Full Access user, in one transaction."""
    details = check_clinic_details(
        ClinicDetails(clinic_name, time_zone, currency, phone, email, address)
    )
    location = check_location(FirstLocation(location_name, location_address, location_phone))
    user = check_first_user(FirstUser(first_name, last_name, username, password))
    with db.transaction() as s:
        if s.scalar(select(func.count()).select_from(Clinic)):
            raise Conflict("This database already has a clinic.")
        clinic = Clinic(
            name=details.clinic_name,
            time_zone=details.time_zone,
            currency=details.currency,
            phone=details.phone,
            email=details.email,
            address=details.address,
        )
        s.add(clinic)
        s.flush()
        s.add(
            Location(
                clinic_id=clinic.id,
                name=location.location_name,
                address=location.location_address,
                phone=location.location_phone,
            )
        )
        staff = Staff(
            clinic_id=clinic.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            role=Role.FULL_ACCESS,
            billing_permission=True,
            password_hash=hash_password(user.password),
        )
        s.add(staff)
        s.flush()
        audit.record(
            s,
            actor_for(staff, workstation),
            "clinic.created",
            entity=clinic,
            summary=f"Created clinic {details.clinic_name}",
        )
        return clinic.id
