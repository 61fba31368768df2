"""Creating a new clinic with its first location and Full Access user."""

from __future__ import annotations

import re
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import Role
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.auth import actor_for, check_new_password, hash_password
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, ValidationError
from desk_app.services.patient_input import clean_text

SUPPORTED_CURRENCIES = ("CAD", "USD", "AUD", "NZD", "GBP", "EUR")
_USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")


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
) -> uuid.UUID:
    """Create the clinic, one location and its first Full Access user, in one transaction."""
    name = clean_text(clinic_name, "clinic name", required=True)
    location = clean_text(location_name, "location name", required=True)
    first = clean_text(first_name, "first name", required=True)
    last = clean_text(last_name, "last name", required=True)
    user = username.strip().lower()
    if not _USERNAME.match(user):
        raise ValidationError(
            "A username is 3 to 40 letters, digits, dots, dashes or underscores, with no spaces.",
            "username",
        )
    check_new_password(password)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"“{time_zone}” is not a time zone; choose one from the list, "
            "for example America/Toronto.",
            "time_zone",
        ) from None
    if currency not in SUPPORTED_CURRENCIES:
        raise ValidationError("Choose the clinic's currency from the list.", "currency")
    with db.transaction() as s:
        if s.scalar(select(func.count()).select_from(Clinic)):
            raise Conflict("This database already has a clinic.")
        clinic = Clinic(name=name, time_zone=time_zone, currency=currency)
        s.add(clinic)
        s.flush()
        s.add(Location(clinic_id=clinic.id, name=location))
        staff = Staff(
            clinic_id=clinic.id,
            first_name=first,
            last_name=last,
            username=user,
            role=Role.FULL_ACCESS,
            billing_permission=True,
            password_hash=hash_password(password),
        )
        s.add(staff)
        s.flush()
        audit.record(
            s,
            actor_for(staff, workstation),
            "clinic.created",
            entity=clinic,
            summary=f"Created clinic {name}",
        )
        return clinic.id
