"""Signing in, adding and editing patients, and booking visits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from desk_app.models import AppointmentStatus, AuditEvent, Patient
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.demo_credentials import DEMO_PASSWORD
from desk_app.services.errors import Conflict, PermissionDenied, SignInFailed, ValidationError
from desk_app.services.patient_input import PatientInput
from tests.builders import small_clinic


def test_sign_in_with_the_right_password(db: Database) -> None:
    c = small_clinic(db)
    actor = c.services.auth.sign_in("  FrontDesk ", DEMO_PASSWORD, "DESK2")
    assert (actor.name, actor.workstation) == ("Sam Lee", "DESK2")


def test_five_wrong_passwords_lock_the_account_for_a_while(db: Database,
                                                           clock: FixedClock) -> None:
    c = small_clinic(db)
    auth = c.services.auth
    for _ in range(5):
        with pytest.raises(SignInFailed, match="do not match"):
            auth.sign_in("frontdesk", "wrong", "DESK1")
    with pytest.raises(SignInFailed, match="Too many failed attempts"):
        auth.sign_in("frontdesk", DEMO_PASSWORD, "DESK1")
    clock.advance(timedelta(minutes=16))
    assert auth.sign_in("frontdesk", DEMO_PASSWORD, "DESK1").name == "Sam Lee"
    with db.reading() as s:
        failures = s.scalars(select(AuditEvent).where(AuditEvent.action == "signin.failed")).all()
        assert len(failures) == 5


def test_unknown_user_gets_the_same_message_as_a_wrong_password(db: Database) -> None:
    c = small_clinic(db)
    with pytest.raises(SignInFailed, match="do not match"):
        c.services.auth.sign_in("nobody", "whatever", "DESK1")


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"legal_last_name": "   "}, "legal_last_name", "Legal last name is required"),
        ({"email": "maddy@"}, "email", "not an email address"),
        ({"mobile_phone": "call me"}, "mobile_phone", "has letters"),
        ({"mobile_phone": "555-12"}, "mobile_phone", "7 to 15"),
        ({"date_of_birth": date(2030, 1, 1)}, "date_of_birth", "future"),
        ({"legal_first_name": "x" * 201}, "legal_first_name", "too long"),
    ],
)
def test_bad_patient_details_are_refused_and_nothing_is_saved(
    db: Database, change: dict[str, object], field: str, says: str
) -> None:
    c = small_clinic(db)
    data = replace(PatientInput("Maddy", "Smith"), **change)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=says) as refused:
        c.services.patients.create(c.owner, data)
    assert refused.value.field == field
    with db.reading() as s:
        assert s.scalars(select(Patient)).all() == []


def test_pasted_details_are_tidied(db: Database) -> None:
    c = small_clinic(db)
    created = c.services.patients.create(c.owner, PatientInput(
        "  Zoë\t", " Ødegård-Nguyễn ", email=" Zoe@Mail.Example ", mobile_phone=" 416-555-0101 "))
    assert (created.data.legal_first_name, created.data.legal_last_name) == (
        "Zoë", "Ødegård-Nguyễn")
    assert created.data.email == "zoe@mail.example"
    assert created.data.mobile_phone == "416-555-0101"


def test_a_stale_edit_is_refused_instead_of_overwriting(db: Database) -> None:
    c = small_clinic(db)
    pid = c.patient()
    first = c.services.patients.get(c.owner, pid)
    c.services.patients.update(c.owner, pid, replace(first.data, pronouns="she/her"),
                               first.version)
    with pytest.raises(Conflict, match="changed by someone else"):
        c.services.patients.update(c.owner, pid, replace(first.data, preferred_name="M"),
                                   first.version)
    with db.reading() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "patient.updated")).one()
        assert '"pronouns": {"after": "she/her", "before": ""}' in event.details


def test_practitioner_cannot_edit_patients_but_can_book(db: Database) -> None:
    c = small_clinic(db)
    pid = c.patient()
    practitioner = c.actor("psharma")
    physio = c.treatment("Physio initial assessment")
    c.services.appointments.book(c.owner, pid, practitioner.staff_id, physio, c.location_id,
                                 datetime(2026, 11, 25, 9, 30))
    details = c.services.patients.get(practitioner, pid)  # theirs now: booked with them
    c.services.appointments.book(practitioner, pid, practitioner.staff_id, physio,
                                 c.location_id, datetime(2026, 12, 2, 9, 30))  # a follow-up
    with pytest.raises(PermissionDenied, match="Practitioner"):
        c.services.patients.update(practitioner, pid, details.data, details.version)


def test_booking_in_clinic_time_and_refusing_a_double_booking(db: Database) -> None:
    c = small_clinic(db)
    pid = c.patient()
    other = c.patient("Liam", "Roy")
    appts = c.services.appointments
    massage = c.treatment("Massage 60 min")
    appt = appts.book(c.owner, pid, c.practitioner_id, massage, c.location_id,
                      datetime(2026, 11, 25, 9, 30))
    with pytest.raises(Conflict, match="already booked 2026-11-25 09:30–10:30"):
        appts.book(c.owner, other, c.practitioner_id, massage, c.location_id,
                   datetime(2026, 11, 25, 10, 0))
    rows = appts.for_patient(c.owner, pid)
    assert [r.id for r in rows.upcoming] == [appt]
    assert rows.upcoming[0].starts_at.strftime("%H:%M %Z") == "09:30 EST"


def test_past_visits_move_to_history_and_an_invoiced_visit_cannot_be_cancelled(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    pid = c.patient()
    invoice = c.visit(pid, when=datetime(2026, 11, 21, 9, 0))
    rows = c.services.appointments.for_patient(c.owner, pid)
    assert rows.upcoming == [] and rows.history[0].status == AppointmentStatus.ARRIVED
    with db.reading() as s:
        from desk_app.models import Invoice

        number = s.get_one(Invoice, invoice).number
    assert rows.history[0].invoice_number == number
    with pytest.raises(Conflict, match="Delete its invoice before cancelling"):
        c.services.appointments.set_status(c.owner, rows.history[0].id,
                                           AppointmentStatus.CANCELLED)


def test_recent_patients_are_the_ones_this_person_opened_newest_first(
    db: Database, clock: FixedClock
) -> None:
    c = small_clinic(db)
    a, b = c.patient("Ann", "A"), c.patient("Bo", "B")
    c.services.patients.open_profile(c.desk, a)
    clock.advance(timedelta(seconds=5))
    c.services.patients.open_profile(c.desk, b)
    assert [p.id for p in c.services.patients.recent(c.desk)] == [b, a]
    assert c.services.patients.recent(c.owner) == []


def test_unlocking_checks_the_signed_in_members_password_and_counts_failures(
    db: Database,
) -> None:
    c = small_clinic(db)
    auth = c.services.auth
    desk = auth.sign_in("frontdesk2", DEMO_PASSWORD, "DESK2")
    assert auth.unlock(desk, DEMO_PASSWORD).name == "Robin Clarke"
    for _ in range(5):
        with pytest.raises(SignInFailed):
            auth.unlock(desk, "wrong-password")
    with pytest.raises(SignInFailed, match="Too many failed attempts"):
        auth.unlock(desk, DEMO_PASSWORD)
    with db.reading() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("signin.%")))
        assert sorted(set(actions)) == ["signin.unlock_failed", "signin.unlocked"]
