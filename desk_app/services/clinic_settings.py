"""The clinic's own details and the settings that change what the desk shows."""

from __future__ import annotations

import io
import uuid
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


#: A logo is printed about two inches wide: a few hundred pixels and KB are plenty.
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 4000
_LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


def check_logo(data: bytes) -> str:
    """The logo's format ("PNG" or "JPEG") when it can go on receipts; else ValidationError."""
    if not data:
        raise ValidationError("That file is empty; choose a PNG or JPEG image.", "logo")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(
            f"That image is {len(data) // 1024:,} KB; use one of at most "
            f"{LOGO_MAX_BYTES // 1024} KB (a PNG or JPEG a few hundred pixels wide is plenty).",
            "logo",
        )
    kind = next((k for sig, k in _LOGO_SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        raise ValidationError("Use a PNG or JPEG image for the logo.", "logo")
    from PIL import Image, UnidentifiedImageError  # only when a logo is chosen: start-up stays fast

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            f"That file is not a readable {kind} image; export the logo again and retry.", "logo"
        ) from None
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise ValidationError(
            f"That image is {width} × {height} pixels; use one at most {LOGO_MAX_PIXELS} "
            "pixels on each side.",
            "logo",
        )
    return kind


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

    def logo(self, actor: Actor) -> bytes | None:
        """The logo printed on receipts and statements, if one is set."""
        with self.db.reading() as s:
            clinic = s.get(Clinic, actor.clinic_id)
            if clinic is None:
                raise NotFound("This workstation's clinic is missing from the database.")
            return clinic.logo_image

    def set_logo(self, actor: Actor, data: bytes | None) -> None:
        """Put the clinic's logo on its documents (a PNG or JPEG), or take it off (None)."""
        require(actor, Permission.MANAGE_CLINIC)
        kind = check_logo(data) if data is not None else ""
        with self.db.transaction() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            if clinic.logo_image == data:
                return
            clinic.logo_image = data
            audit.record(
                s,
                actor,
                "clinic.logo",
                entity=clinic,
                summary=(
                    f"Set the logo ({kind}, {len(data) // 1024 or 1} KB)"
                    if data is not None
                    else "Removed the logo"
                ),
                details={"bytes": len(data) if data is not None else 0},
            )


def existing_clinic_id(db: Database) -> uuid.UUID | None:
    """The clinic of this database, if one has been created (first run: None)."""
    with db.reading() as s:
        return s.scalar(select(Clinic.id).limit(1))
