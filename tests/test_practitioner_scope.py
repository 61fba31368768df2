"""A Practitioner sees their own patients and day: search, recent patients, every read or
action naming a patient (directly or through an invoice, payment, card, package or
appointment), booking and My day. Checked in the services; other roles see everyone."""

from __future__ import annotations

import inspect
import logging
import re
import typing
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from desk_app.models.appointment import Appointment
from desk_app.models.enums import AppointmentKind, AppointmentStatus, PaymentMethod, Role
from desk_app.services.actor import Actor
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.errors import PermissionDenied
from desk_app.services.patients import find_patients
from desk_app.services.permissions import Permission, permissions_of
from desk_app.services.staff_admin import StaffInput
from tests.builders import Clinic, small_clinic
from tests.service_catalogue import service_classes

OKOYE = "dokoye"  # Daniel Okoye, RMT: Practitioner without the Billing permission
GAUTHIER = "mgauthier"  # Mireille Gauthier, DC: Practitioner with the Billing permission
WHEN = datetime(2026, 11, 20, 10, 0)


class Scene(typing.NamedTuple):
    c: Clinic
    okoye: Actor
    gauthier: Actor
    own: uuid.UUID  # Maddy Smith: a visit with Okoye and one with Gauthier
    others: uuid.UUID  # Ana Smithers: a visit with Gauthier only
    nobodys: uuid.UUID  # Smitty Jones: no visit at all
    others_invoice: uuid.UUID
    others_appointment: uuid.UUID


def book(c: Clinic, patient: uuid.UUID, practitioner: uuid.UUID, hour: int) -> uuid.UUID:
    return c.services.appointments.book(
        c.owner, patient, practitioner, c.treatment("Massage 60 min"), c.location_id,
        WHEN.replace(hour=hour),
    )


@pytest.fixture
def scene(db: Database) -> Scene:
    c = small_clinic(db)
    okoye, gauthier = c.actor(OKOYE), c.actor(GAUTHIER)
    own = c.patient("Maddy", "Smith", email="maddy@example.org")
    others = c.patient("Ana", "Smithers")
    nobodys = c.patient("Smitty", "Jones")
    book(c, own, okoye.staff_id, 9)
    book(c, own, gauthier.staff_id, 11)
    others_appointment = book(c, others, gauthier.staff_id, 13)
    c.services.appointments.set_status(c.owner, others_appointment, AppointmentStatus.ARRIVED)
    others_invoice = c.services.invoicing.invoice_appointment(
        c.owner, others_appointment).invoice_id
    return Scene(c, okoye, gauthier, own, others, nobodys, others_invoice, others_appointment)


def test_search_finds_only_their_own_patients_in_the_usual_order(scene: Scene) -> None:
    svc = scene.c.services.patients
    assert [p.id for p in svc.search(scene.okoye, "smi")] == [scene.own]
    assert svc.search(scene.okoye, "ana") == []
    assert svc.search(scene.okoye, "jones") == []
    # Gauthier sees both of hers, in name order, exactly as the full search orders them.
    for query in ("smi", "s", "maddy smith", "maddy@example", "  SMITH  "):
        everyone = svc.search(scene.c.owner, query)
        hers = [p for p in everyone if p.id in {scene.own, scene.others}]
        assert svc.search(scene.gauthier, query) == hers, query


def test_their_search_follows_the_same_matching_rule_as_everyone_elses(scene: Scene) -> None:
    c = scene.c
    for i, (first, last) in enumerate([("Zoë", "Ødegård"), ("Liam", "O'Brien"),
                                       ("Mei", "Chen"), ("Priya", "Patel")]):
        book(c, c.patient(first, last, mobile_phone=f"416-555-01{i:02d}"), scene.okoye.staff_id,
             12 + i)
        c.patient(first, last + "-Other")  # a namesake who is not theirs
    queries = ["zoe", "odegard", "o'brien", "o brien", "416 555 01", "mei c", "priya pa", "p",
               "smith maddy"]
    with c.db.reading() as s:
        theirs = set(s.scalars(select(Appointment.patient_id).where(
            Appointment.practitioner_id == scene.okoye.staff_id)))
        for query in queries:
            expected = [p for p in find_patients(s, query, 10_000) if p.id in theirs][:3]
            assert expected, query
            assert c.services.patients.search(scene.okoye, query, limit=3) == expected, query


def test_opening_someone_elses_patient_is_refused_with_the_reason_and_logged(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    svc = scene.c.services
    assert svc.patients.open_profile(scene.okoye, scene.own).id == scene.own
    with caplog.at_level(logging.WARNING, logger="desk_app.services.patient_access"), \
            pytest.raises(PermissionDenied) as denied:
        svc.patients.open_profile(scene.okoye, scene.others)
    assert "Daniel Okoye (Practitioner) can see only their own patients" in denied.value.message
    assert "Ask the front desk" in denied.value.message
    assert any("outside their own" in r.getMessage() for r in caplog.records)
    reads = [
        lambda p: svc.patients.get(scene.okoye, p),
        lambda p: svc.ledger.billing_summary(scene.okoye, p),
        lambda p: svc.ledger.balance(scene.okoye, p),
        lambda p: svc.appointments.for_patient(scene.okoye, p),
        lambda p: svc.receipts.page(scene.okoye, p),
        lambda p: svc.cards.list_cards(scene.okoye, p),
        lambda p: svc.packages.sales_for_patient(scene.okoye, p),
        lambda p: svc.memberships.for_patient(scene.okoye, p),
        lambda p: svc.billing_notices.panel(scene.okoye, p),
        lambda p: svc.documents.statement(scene.okoye, p, WHEN.date(), WHEN.date()),
    ]
    for read in reads:
        read(scene.own)
        with pytest.raises(PermissionDenied, match="only their own patients"):
            read(scene.others)
        with pytest.raises(PermissionDenied, match="only their own patients"):
            read(scene.nobodys)
    with pytest.raises(PermissionDenied, match="only their own patients"):
        svc.documents.invoice_receipt(scene.okoye, scene.others_invoice)
    with pytest.raises(PermissionDenied, match="only their own patients"):
        svc.packages.visit_coverage(scene.okoye, scene.others_appointment)


def test_every_other_role_sees_every_patient(scene: Scene) -> None:
    svc = scene.c.services
    for who in (scene.c.owner, scene.c.desk, scene.c.billing):
        assert {p.id for p in svc.patients.search(who, "smi")} == {scene.own, scene.others,
                                                                  scene.nobodys}
        svc.patients.open_profile(who, scene.nobodys)
        svc.ledger.billing_summary(who, scene.others)


def test_with_the_billing_permission_money_actions_stay_within_their_own_patients(
    scene: Scene,
) -> None:
    svc, gauthier = scene.c.services, scene.gauthier
    okoye_patient = scene.c.patient("Olu", "Adeyemi")
    olu_visit = book(scene.c, okoye_patient, scene.okoye.staff_id, 15)
    svc.appointments.set_status(scene.c.owner, olu_visit, AppointmentStatus.ARRIVED)
    paid = svc.ledger.record_payment(gauthier, scene.others, PaymentMethod.CASH, 5000,
                                     apply_to=[scene.others_invoice])
    assert paid.payment_id
    with pytest.raises(PermissionDenied, match="only their own patients"):
        svc.ledger.record_payment(gauthier, okoye_patient, PaymentMethod.CASH, 5000)
    # Front desk gave Olu credit; Gauthier may not move it either.
    credit = svc.ledger.record_payment(scene.c.billing, okoye_patient, PaymentMethod.CASH, 700)
    with pytest.raises(PermissionDenied, match="only their own patients"):
        svc.ledger.refund(gauthier, credit.payment_id, 700, "cash back")
    with pytest.raises(PermissionDenied, match="only their own patients"):
        svc.invoicing.invoice_appointment(gauthier, olu_visit)
    assert svc.ledger.balance(scene.c.owner, okoye_patient).credit_cents == 700  # nothing moved


def test_a_practitioner_books_and_changes_their_own_day_only(scene: Scene) -> None:
    svc, okoye = scene.c.services, scene.okoye
    options = svc.appointments.booking_options(okoye)
    assert [p.id for p in options.practitioners] == [okoye.staff_id]
    assert len(svc.appointments.booking_options(scene.c.owner).practitioners) > 1
    mine = svc.appointments.book(okoye, scene.own, okoye.staff_id, scene.c.treatment(
        "Massage 60 min"), scene.c.location_id, WHEN.replace(hour=16))
    svc.appointments.set_status(okoye, mine, AppointmentStatus.ARRIVED)
    with pytest.raises(PermissionDenied, match="their own appointments only"):
        svc.appointments.book(okoye, scene.own, scene.gauthier.staff_id,
                              scene.c.treatment("Massage 60 min"), scene.c.location_id,
                              WHEN.replace(hour=17))
    with pytest.raises(PermissionDenied, match="only their own patients"):
        svc.appointments.book(okoye, scene.nobodys, okoye.staff_id,
                              scene.c.treatment("Massage 60 min"), scene.c.location_id,
                              WHEN.replace(hour=17))
    with pytest.raises(PermissionDenied, match="their own appointments only"):
        svc.appointments.set_status(okoye, scene.others_appointment,
                                    AppointmentStatus.NO_SHOW)
    assert svc.package_reports.my_day(okoye, day=WHEN.date()) is not None
    with pytest.raises(PermissionDenied, match="their own appointments only"):
        svc.package_reports.my_day(okoye, scene.gauthier.staff_id, day=WHEN.date())
    # The front desk books for anyone.
    svc.appointments.book(scene.c.desk, scene.nobodys, scene.gauthier.staff_id,
                          scene.c.treatment("Massage 60 min"), scene.c.location_id,
                          WHEN.replace(hour=17))


def test_a_patient_becomes_theirs_once_booked_with_them(scene: Scene) -> None:
    svc, okoye = scene.c.services, scene.okoye
    with pytest.raises(PermissionDenied):
        svc.patients.open_profile(okoye, scene.nobodys)
    book(scene.c, scene.nobodys, okoye.staff_id, 8)  # booked by the front desk
    assert svc.patients.open_profile(okoye, scene.nobodys).id == scene.nobodys
    assert [p.id for p in svc.patients.search(okoye, "jones")] == [scene.nobodys]


def test_recent_patients_lists_only_those_they_still_see(scene: Scene, clock: FixedClock) -> None:
    svc = scene.c.services
    svc.patients.open_profile(scene.gauthier, scene.others)
    clock.advance(timedelta(minutes=1))
    svc.patients.open_profile(scene.gauthier, scene.own)
    assert [p.id for p in svc.patients.recent(scene.gauthier)] == [scene.own, scene.others]
    # A receptionist who opened anyone, then made a Practitioner: only their own remain.
    desk = scene.c.desk
    for patient in (scene.nobodys, scene.others, scene.own):
        clock.advance(timedelta(minutes=1))
        svc.patients.open_profile(desk, patient)
    row = next(r for r in svc.staff.list_staff(scene.c.owner) if r.id == desk.staff_id)
    svc.staff.update(scene.c.owner, row.id, StaffInput(
        row.first_name, row.last_name, row.username, Role.PRACTITIONER), row.version)
    book(scene.c, scene.others, desk.staff_id, 18)
    now_practitioner = scene.c.actor(row.username)
    assert [p.id for p in svc.patients.recent(now_practitioner)] == [scene.others]


# ----- every action a practitioner may call is scoped ---------------------------------------

#: Arguments that name a patient, directly or through a row that belongs to one.
PATIENT_ARGUMENTS = {"patient_id", "with_patient_id", "invoice_id", "payment_id", "card_id",
                     "attempt_id", "appointment_id", "sale_id", "membership_id", "notice_id"}
SCOPE_CALLS = re.compile(r"require_patient(_of)?\(|require_own_day\(|self\._charge\(")
def _practitioner_actions() -> dict[str, str]:
    allowed = permissions_of(Role.PRACTITIONER, True)
    found = {}
    for name, kind in service_classes().items():
        for method, function in inspect.getmembers(kind, inspect.isfunction):
            if method.startswith("_") or not function.__qualname__.startswith(kind.__name__):
                continue
            source = inspect.getsource(function)
            needed = {Permission[p] for p in re.findall(r"Permission\.(\w+)", source)}
            named = PATIENT_ARGUMENTS & set(inspect.signature(function).parameters)
            if needed and needed <= allowed and named:
                found[f"{name}.{method}"] = source
    return found


def test_every_action_a_practitioner_may_call_on_a_patient_checks_the_patient() -> None:
    actions = _practitioner_actions()
    assert len(actions) > 30
    unscoped = {name for name, source in actions.items() if not SCOPE_CALLS.search(source)}
    assert unscoped == set(), "call require_patient / require_patient_of in these"


def test_a_place_in_their_class_makes_a_patient_theirs(scene: Scene) -> None:
    svc, okoye = scene.c.services, scene.okoye
    svc.appointments.book(scene.c.owner, scene.own, okoye.staff_id,
                          scene.c.treatment("Massage 60 min"), scene.c.location_id,
                          WHEN.replace(hour=19), kind=AppointmentKind.CLASS,
                          others=[scene.nobodys])
    assert svc.patients.open_profile(okoye, scene.nobodys).id == scene.nobodys
    assert [p.id for p in svc.patients.search(okoye, "smitty")] == [scene.nobodys]
    with pytest.raises(PermissionDenied):
        svc.patients.open_profile(okoye, scene.others)
