"""The clinic's own details and the settings that change what the desk shows."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import select

from desk_app.models.clinic import Clinic
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import NotFound, ValidationError
from desk_app.services.patient_input import clean_text
from desk_app.services.permissions import Permission, require


@dataclass(frozen=True, slots=True)
class ClinicInfo:
    name: str
    time_zone: str
    currency: str
    tax_numbers: str
    address: str
    phone: str
    email: str
    show_pronouns: bool
    enable_add_account_credit: bool
    idle_lock_minutes: int


def _info(c: Clinic) -> ClinicInfo:
    return ClinicInfo(**{f.name: getattr(c, f.name) for f in fields(ClinicInfo)})


class ClinicSettingsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def info(self, actor: Actor) -> ClinicInfo:
        with self.db.reading() as s:
            clinic = s.get(Clinic, actor.clinic_id)
            if clinic is None:
                raise NotFound("This workstation's clinic is missing from the database.")
            return _info(clinic)

    def only_clinic_name(self) -> str | None:
        """The clinic's name for the sign-in window, before anyone has signed in."""
        with self.db.reading() as s:
            return s.scalar(select(Clinic.name).limit(1))

    def update(self, actor: Actor, **changes: Any) -> ClinicInfo:
        require(actor, Permission.MANAGE_CLINIC)
        with self.db.transaction() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            current = _info(clinic)
            unknown = set(changes) - {f.name for f in fields(ClinicInfo)} - {"currency"}
            if unknown or ("currency" in changes and changes["currency"] != clinic.currency):
                raise ValidationError("The clinic's currency cannot change once it has a ledger.")
            if "name" in changes:
                changes["name"] = clean_text(str(changes["name"]), "clinic name", required=True)
            if "idle_lock_minutes" in changes and not 1 <= int(changes["idle_lock_minutes"]) <= 240:
                raise ValidationError("Auto-lock must be between 1 and 240 minutes.")
            new = replace(current, **changes)
            diff = {
                k: {"before": getattr(current, k), "after": getattr(new, k)}
                for k in changes
                if getattr(current, k) != getattr(new, k)
            }
            for key in diff:
                setattr(clinic, key, getattr(new, key))
            if diff:
                audit.record(
                    s,
                    actor,
                    "clinic.settings",
                    entity=clinic,
                    summary="Changed " + ", ".join(sorted(diff)),
                    details=diff,
                )
            return new
