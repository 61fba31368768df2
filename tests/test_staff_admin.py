"""Settings ▸ Staff: adding staff, changing roles and the Billing flag, deactivating,
password resets and lockouts, with every change audited before and after."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from desk_app.models import AuditEvent, Staff
from desk_app.models.enums import Role
from desk_app.services.db import Database
from desk_app.services.demo_credentials import DEMO_PASSWORD
from desk_app.services.errors import (
    Conflict,
    PermissionDenied,
    SignInFailed,
    ValidationError,
)
from desk_app.services.staff_admin import StaffInput, StaffRow
from tests.builders import Clinic, small_clinic

NEW_PASSWORD = "river-stone-42"


def jordan(role: Role = Role.FRONT_DESK, **changes: object) -> StaffInput:
    values: dict[str, object] = {
        "first_name": " Jordan ",
        "last_name": "Béliveau",
        "username": " JBeliveau ",
        "role": role,
        "email": "jordan@clinic.example",
    }
    values.update(changes)
    return StaffInput(**values)  # type: ignore[arg-type]


def staff_count(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Staff)) or 0)


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.reading() as s:
        found = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        s.expunge_all()  # plain objects to read after the session
        return found


def row_of(c: Clinic, username: str) -> StaffRow:
    return next(r for r in c.services.staff.list_staff(c.owner) if r.username == username)


def test_an_added_member_can_sign_in_and_the_addition_is_audited(db: Database) -> None:
    c = small_clinic(db)
    added = c.services.staff.add(c.owner, jordan(), NEW_PASSWORD)
    assert (added.name, added.username, added.role) == ("Jordan Béliveau", "jbeliveau",
                                                         Role.FRONT_DESK)
    actor = c.services.auth.sign_in("jbeliveau", NEW_PASSWORD, "DESK3")
    assert actor.name == "Jordan Béliveau"
    [event] = events(db, "staff.added")
    assert event.staff_id == c.owner.staff_id
    assert json.loads(event.details)["after"]["role"] == "front_desk"


@pytest.mark.parametrize(
    ("data", "password", "field"),
    [
        (jordan(username="frontdesk"), NEW_PASSWORD, "username"),  # taken
        (jordan(username="FRONTDESK2"), NEW_PASSWORD, "username"),  # taken, other case
        (jordan(username="j b"), NEW_PASSWORD, "username"),
        (jordan(first_name="   "), NEW_PASSWORD, "first_name"),
        (jordan(email="jordan@"), NEW_PASSWORD, "email"),
        (jordan(), "short", "password"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_written(
    db: Database, data: StaffInput, password: str, field: str
) -> None:
    c = small_clinic(db)
    before = staff_count(db)
    with pytest.raises(ValidationError) as refused:
        c.services.staff.add(c.owner, data, password)
    assert refused.value.field == field
    assert staff_count(db) == before
    assert events(db, "staff.added") == []


def test_a_role_or_billing_change_is_a_permission_change_with_before_and_after(
    db: Database,
) -> None:
    c = small_clinic(db)
    added = c.services.staff.add(c.owner, jordan(), NEW_PASSWORD)
    changed = c.services.staff.update(
        c.owner, added.id, jordan(Role.BILLING, billing_permission=True), added.version
    )
    assert (changed.role, changed.billing_permission) == (Role.BILLING, True)
    [event] = events(db, "staff.permissions_changed")
    details = json.loads(event.details)
    assert details["before"] == {"role": "front_desk", "billing_permission": False}
    assert details["after"] == {"role": "billing", "billing_permission": True}
    assert "Front Desk → Billing" in event.summary
    # The new role applies from the next sign-in.
    assert c.services.auth.sign_in("jbeliveau", NEW_PASSWORD, "DESK3").role == Role.BILLING


def test_a_stale_edit_is_refused(db: Database) -> None:
    c = small_clinic(db)
    added = c.services.staff.add(c.owner, jordan(), NEW_PASSWORD)
    c.services.staff.update(c.owner, added.id, jordan(title="Reception lead"), added.version)
    with pytest.raises(Conflict):
        c.services.staff.update(c.owner, added.id, jordan(Role.BILLING), added.version)
    assert row_of(c, "jbeliveau").role == Role.FRONT_DESK


def test_the_last_full_access_member_stays(db: Database) -> None:
    c = small_clinic(db)
    owner = row_of(c, "owner")
    with pytest.raises(ValidationError, match="only active Full Access"):
        c.services.staff.update(
            c.owner,
            owner.id,
            StaffInput(owner.first_name, owner.last_name, "owner", Role.FRONT_DESK),
            owner.version,
        )
    with pytest.raises(ValidationError, match="your own account"):
        c.services.staff.set_active(c.owner, owner.id, False)
    second = c.services.staff.add(c.owner, jordan(Role.FULL_ACCESS), NEW_PASSWORD)
    assert second.billing_permission  # Full Access holds every billing permission
    demoted = c.services.staff.update(
        c.owner,
        owner.id,
        StaffInput(owner.first_name, owner.last_name, "owner", Role.ADMIN_BILLING),
        owner.version,
    )
    assert demoted.role == Role.ADMIN_BILLING
    other = c.services.auth.sign_in("jbeliveau", NEW_PASSWORD, "DESK3")
    me = row_of(c, "jbeliveau")
    with pytest.raises(ValidationError, match="only active Full Access"):
        c.services.staff.update(other, me.id, jordan(Role.FRONT_DESK), me.version)


def test_a_deactivated_member_cannot_sign_in_until_reactivated(db: Database) -> None:
    c = small_clinic(db)
    desk = row_of(c, "frontdesk2")
    c.services.staff.set_active(c.owner, desk.id, False)
    with pytest.raises(SignInFailed):
        c.services.auth.sign_in("frontdesk2", DEMO_PASSWORD, "DESK1")
    c.services.staff.set_active(c.owner, desk.id, True)
    assert c.services.auth.sign_in("frontdesk2", DEMO_PASSWORD, "DESK1").name == "Robin Clarke"
    assert [len(events(db, a)) for a in ("staff.deactivated", "staff.reactivated")] == [1, 1]


def test_a_locked_out_member_is_unlocked_or_given_a_new_password(db: Database) -> None:
    c = small_clinic(db)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            c.services.auth.sign_in("frontdesk2", "wrong-password", "DESK1")
    assert row_of(c, "frontdesk2").locked
    c.services.staff.unlock(c.owner, row_of(c, "frontdesk2").id)
    assert not row_of(c, "frontdesk2").locked
    assert c.services.auth.sign_in("frontdesk2", DEMO_PASSWORD, "DESK1")
    c.services.staff.reset_password(c.owner, row_of(c, "frontdesk2").id, NEW_PASSWORD)
    with pytest.raises(SignInFailed):
        c.services.auth.sign_in("frontdesk2", DEMO_PASSWORD, "DESK1")
    assert c.services.auth.sign_in("frontdesk2", NEW_PASSWORD, "DESK1")
    assert len(events(db, "staff.password_reset")) == 1


@pytest.mark.parametrize("who", ["desk", "billing"])
def test_only_full_access_manages_staff(db: Database, who: str) -> None:
    c = small_clinic(db)
    actor = getattr(c, who)
    with pytest.raises(PermissionDenied, match="manage staff"):
        c.services.staff.list_staff(actor)
    with pytest.raises(PermissionDenied):
        c.services.staff.add(actor, jordan(), NEW_PASSWORD)
