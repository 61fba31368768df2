"""Settings ▸ Staff: a Full Access user adds staff, changes roles and the Billing flag,
deactivates and reactivates accounts, resets passwords and lifts lockouts.

Every change is audited with what it was before and after; a permission change (role or
Billing flag) has an action of its own, ``staff.permissions_changed``, so the trail can be
filtered for it. The clinic always keeps one active Full Access member: the last one can be
neither demoted nor deactivated. A change of role applies from the member's next sign-in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from desk_app.models import Staff
from desk_app.models.enums import Role
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.auth import check_new_password, hash_password
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.patient_input import clean_email, clean_text
from desk_app.services.permissions import Permission, require

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


@dataclass(frozen=True, slots=True)
class StaffRow:
    id: uuid.UUID
    first_name: str
    last_name: str
    username: str
    email: str
    role: Role
    billing_permission: bool
    title: str
    registration_number: str
    active: bool
    locked: bool
    version: int

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class StaffInput:
    """A staff member's details as typed in Settings ▸ Staff."""

    first_name: str
    last_name: str
    username: str
    role: Role
    billing_permission: bool = False
    email: str = ""
    title: str = ""
    registration_number: str = ""


def _row(staff: Staff, now: Any) -> StaffRow:
    return StaffRow(
        id=staff.id,
        first_name=staff.first_name,
        last_name=staff.last_name,
        username=staff.username,
        email=staff.email,
        role=staff.role,
        billing_permission=staff.billing_permission,
        title=staff.title,
        registration_number=staff.registration_number,
        active=staff.active,
        locked=staff.locked_until is not None and staff.locked_until > now,
        version=staff.version,
    )


def _clean(data: StaffInput) -> StaffInput:
    username = data.username.strip().lower()
    if not username:
        raise ValidationError("Username is required.", "username")
    if not USERNAME.match(username):
        raise ValidationError(
            "Use 2 to 40 lower-case letters, digits, dots, dashes or underscores for the "
            "username, starting with a letter or digit.",
            "username",
        )
    return StaffInput(
        first_name=clean_text(data.first_name, "first_name", required=True, limit=100),
        last_name=clean_text(data.last_name, "last_name", required=True, limit=100),
        username=username,
        role=data.role,
        # Full Access and Administrative/All Billing hold every billing permission already.
        billing_permission=data.billing_permission
        or data.role in (Role.FULL_ACCESS, Role.ADMIN_BILLING),
        email=clean_email(data.email, "email"),
        title=clean_text(data.title, "title", limit=100),
        registration_number=clean_text(data.registration_number, "registration_number", limit=64),
    )


_FIELDS = (
    "first_name",
    "last_name",
    "username",
    "email",
    "role",
    "billing_permission",
    "title",
    "registration_number",
)


class StaffAdminService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list_staff(self, actor: Actor) -> list[StaffRow]:
        require(actor, Permission.MANAGE_STAFF)
        now = self.db.clock.now()
        with self.db.reading() as s:
            staff = s.scalars(
                select(Staff)
                .where(Staff.clinic_id == actor.clinic_id)
                .order_by(Staff.active.desc(), Staff.last_name, Staff.first_name)
            )
            return [_row(member, now) for member in staff]

    def add(self, actor: Actor, data: StaffInput, password: str) -> StaffRow:
        require(actor, Permission.MANAGE_STAFF)
        clean = _clean(data)
        check_new_password(password)
        with self.db.transaction() as s:
            self._check_username_free(s, clean.username, None)
            staff = Staff(
                clinic_id=actor.clinic_id,
                password_hash=hash_password(password),
                **{field: getattr(clean, field) for field in _FIELDS},
            )
            s.add(staff)
            s.flush()
            audit.record(
                s,
                actor,
                "staff.added",
                entity=staff,
                summary=f"Added {staff.full_name} ({staff.role.label})",
                details={"after": _values(staff)},
            )
            return _row(staff, self.db.clock.now())

    def update(
        self, actor: Actor, staff_id: uuid.UUID, data: StaffInput, expected_version: int
    ) -> StaffRow:
        """Save a member's details; refused if someone saved them since `expected_version`."""
        require(actor, Permission.MANAGE_STAFF)
        clean = _clean(data)
        with self.db.transaction() as s:
            staff = self._load(s, actor, staff_id)
            if staff.version != expected_version:
                raise Conflict(
                    f"{staff.full_name}'s details were changed by someone else. Close this "
                    "window and open it again to see them."
                )
            before = _values(staff)
            demoted = staff.role == Role.FULL_ACCESS and clean.role != Role.FULL_ACCESS
            if demoted and staff.active:
                self._keep_one_full_access(s, actor, staff)
            if clean.username != staff.username:
                self._check_username_free(s, clean.username, staff.id)
            for field in _FIELDS:
                setattr(staff, field, getattr(clean, field))
            after = _values(staff)
            changed = {k: v for k, v in after.items() if before[k] != v}
            if changed:
                s.flush()
                permissions = {"role", "billing_permission"} & changed.keys()
                audit.record(
                    s,
                    actor,
                    "staff.permissions_changed" if permissions else "staff.updated",
                    entity=staff,
                    summary=_change_summary(staff, before, after),
                    details={
                        "before": {k: before[k] for k in changed},
                        "after": changed,
                    },
                )
            return _row(staff, self.db.clock.now())

    def set_active(self, actor: Actor, staff_id: uuid.UUID, active: bool) -> StaffRow:
        require(actor, Permission.MANAGE_STAFF)
        with self.db.transaction() as s:
            staff = self._load(s, actor, staff_id)
            if staff.active == active:
                return _row(staff, self.db.clock.now())
            if not active:
                if staff.id == actor.staff_id:
                    raise ValidationError(
                        "You cannot deactivate your own account. Ask another Full Access "
                        "user to do it."
                    )
                if staff.role == Role.FULL_ACCESS:
                    self._keep_one_full_access(s, actor, staff)
            staff.active = active
            s.flush()
            verb = "Reactivated" if active else "Deactivated"
            audit.record(
                s,
                actor,
                "staff.reactivated" if active else "staff.deactivated",
                entity=staff,
                summary=f"{verb} {staff.full_name}",
                details={"before": {"active": not active}, "after": {"active": active}},
            )
            return _row(staff, self.db.clock.now())

    def reset_password(self, actor: Actor, staff_id: uuid.UUID, password: str) -> StaffRow:
        """A new password, chosen by the admin and told to the member; lifts any lockout."""
        require(actor, Permission.MANAGE_STAFF)
        check_new_password(password)
        with self.db.transaction() as s:
            staff = self._load(s, actor, staff_id)
            staff.password_hash = hash_password(password)
            staff.failed_sign_ins = 0
            staff.locked_until = None
            s.flush()
            audit.record(
                s,
                actor,
                "staff.password_reset",
                entity=staff,
                summary=f"Reset {staff.full_name}'s password",
            )
            return _row(staff, self.db.clock.now())

    def unlock(self, actor: Actor, staff_id: uuid.UUID) -> StaffRow:
        """Lift a lockout after too many failed sign-ins, keeping the password."""
        require(actor, Permission.MANAGE_STAFF)
        with self.db.transaction() as s:
            staff = self._load(s, actor, staff_id)
            staff.failed_sign_ins = 0
            staff.locked_until = None
            s.flush()
            audit.record(
                s, actor, "staff.unlocked", entity=staff, summary=f"Unlocked {staff.full_name}"
            )
            return _row(staff, self.db.clock.now())

    # ----- rules -----------------------------------------------------------------------------

    @staticmethod
    def _load(s: Any, actor: Actor, staff_id: uuid.UUID) -> Staff:
        staff = s.scalar(
            select(Staff)
            .where(Staff.id == staff_id, Staff.clinic_id == actor.clinic_id)
            .with_for_update()
        )
        if staff is None:
            raise NotFound("That staff member no longer exists.")
        return staff  # type: ignore[no-any-return]

    @staticmethod
    def _check_username_free(s: Any, username: str, staff_id: uuid.UUID | None) -> None:
        taken = s.scalar(select(Staff.id).where(func.lower(Staff.username) == username))
        if taken is not None and taken != staff_id:
            raise ValidationError(
                f"The username {username!r} is taken; choose another.", "username"
            )

    @staticmethod
    def _keep_one_full_access(s: Any, actor: Actor, leaving: Staff) -> None:
        """Refuse a change that would leave the clinic with no active Full Access member."""
        others = s.scalar(
            select(func.count())
            .select_from(Staff)
            .where(
                Staff.clinic_id == actor.clinic_id,
                Staff.role == Role.FULL_ACCESS,
                Staff.active.is_(True),
                Staff.id != leaving.id,
            )
        )
        if not others:
            raise ValidationError(
                f"{leaving.full_name} is the clinic's only active Full Access member. Give "
                "someone else Full Access first.",
                "role",
            )


def _values(staff: Staff) -> dict[str, Any]:
    return {
        field: (value.value if isinstance(value, Role) else value)
        for field in _FIELDS
        for value in [getattr(staff, field)]
    }


def _change_summary(staff: Staff, before: dict[str, Any], after: dict[str, Any]) -> str:
    parts = []
    if before["role"] != after["role"]:
        parts.append(f"role {Role(before['role']).label} → {Role(after['role']).label}")
    if before["billing_permission"] != after["billing_permission"]:
        parts.append("Billing permission " + ("granted" if after["billing_permission"] else
                                              "removed"))
    others = [k for k in after if before[k] != after[k] and k not in ("role", "billing_permission")]
    if others:
        parts.append("details edited (" + ", ".join(k.replace("_", " ") for k in others) + ")")
    return f"{staff.full_name}: " + "; ".join(parts)
