"""Book again: copies of past visits into the future warn before they silently consume
package uses (the FAQ's "sneaky" case). The plan is computed without Qt and books nothing;
the booking is one transaction. The clinic's today is Saturday 2026-11-21 (Toronto)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from desk_app.models import Appointment, AuditEvent
from desk_app.models.enums import AppointmentKind, ExpiryUnit
from desk_app.services.appointment_copies import CopyPlan, CopyRequest, PackageDraw, copy_times
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, PermissionDenied, ValidationError
from tests.builders import Clinic, small_clinic
from tests.test_packages import book, sold_and_paid, ten_massages

TODAY = date(2026, 11, 21)
MONDAY = datetime(2026, 11, 16, 7, 0)  # a past visit, Monday 7:00


def appointments(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(Appointment)) or 0)


def used_up_to(c: Clinic, patient: uuid.UUID, sale: uuid.UUID, n: int,
               treatment: str = "Massage 60 min") -> None:
    for _ in range(n):
        c.services.packages.redeem(c.billing, book(c, patient, treatment), sale)


def test_copy_times_every_n_weeks_or_from_a_date() -> None:
    every_two = CopyRequest(uuid.uuid4(), (uuid.uuid4(),), count=3, every_weeks=2)
    # Nov 16 + 2 weeks = Nov 30 (the first after today), then every 2 weeks; time kept.
    assert copy_times(MONDAY, TODAY, every_two) == [
        datetime(2026, 11, 30, 7), datetime(2026, 12, 14, 7), datetime(2026, 12, 28, 7)]
    weekly = CopyRequest(uuid.uuid4(), (uuid.uuid4(),), count=2)
    assert copy_times(MONDAY, TODAY, weekly)[0] == datetime(2026, 11, 23, 7)
    on_date = CopyRequest(uuid.uuid4(), (uuid.uuid4(),), count=2, first_on=date(2026, 12, 3))
    assert copy_times(MONDAY, TODAY, on_date) == [datetime(2026, 12, 3, 7),
                                                  datetime(2026, 12, 10, 7)]


def test_the_plan_says_which_package_how_many_uses_and_how_many_are_left(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c, auto_select=True))
    used_up_to(c, maddy, sale, 2)
    used_up_to(c, maddy, sale, 5, "Massage 90 min")  # 7 of 10 used: 3 left
    source = book(c, maddy, when=MONDAY)
    request = CopyRequest(maddy, (source,), count=4)
    before = appointments(db)

    plan = c.services.appointment_copies.plan(c.billing, request)
    assert plan.warning == ("These 4 visits would use all 3 uses left on 10 Massages; "
                            "1 would be billed normally.")
    [draw] = plan.draws
    assert (draw.sale_id, draw.uses, draw.left_before) == (sale, 3, 3)
    assert [v.packages for v in plan.visits] == [("10 Massages",)] * 3 + [("",)]
    assert [v.starts_local.date() for v in plan.visits] == [
        date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 14)]
    assert appointments(db) == before  # a plan books nothing
    assert c.services.packages.sale(c.billing, sale).usage.used == 7

    booked = c.services.appointment_copies.book(c.billing, request)
    assert len(booked.appointment_ids) == 4
    assert booked.plan.warning == plan.warning  # the booking did what the plan said
    assert c.services.packages.sale(c.billing, sale).usage.used == 10
    covered = [c.services.packages.visit_coverage(c.billing, a).sale_id
               for a in booked.appointment_ids]
    assert covered == [sale, sale, sale, None]
    with db.reading() as s:
        summary = s.scalar(select(AuditEvent.summary)
                           .where(AuditEvent.action == "appointment.copied"))
    assert summary is not None and "all 3 uses left on 10 Massages" in summary


def test_the_plan_counts_the_per_item_limit(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c, auto_select=True))  # at most 5 per length
    used_up_to(c, maddy, sale, 4)
    source = book(c, maddy, when=MONDAY)
    plan = c.services.appointment_copies.plan(c.billing, CopyRequest(maddy, (source,), 3))
    assert plan.warning == ("These 3 visits would use 1 of the 6 uses left on 10 Massages; "
                            "2 would be billed normally.")


def test_the_plan_checks_expiry_on_each_booked_date(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    # Sold today; 30 days: the last day it may be used is 2026-12-20.
    plan_id = ten_massages(c, auto_select=True, expiry_unit=ExpiryUnit.DAYS, expiry_count=30)
    sale = sold_and_paid(c, maddy, plan_id)
    source = book(c, maddy, when=MONDAY)
    request = CopyRequest(maddy, (source,), count=4, first_on=date(2026, 12, 7))
    plan = c.services.appointment_copies.plan(c.billing, request)
    assert [v.packages for v in plan.visits] == [("10 Massages",), ("10 Massages",), ("",),
                                                 ("",)]  # Dec 7, 14 | Dec 21, 28
    assert plan.warning == ("These 4 visits would use 2 of the 10 uses left on 10 Massages; "
                            "2 would be billed normally.")
    booked = c.services.appointment_copies.book(c.billing, request, use_packages=False)
    assert booked.plan.draws == [] and booked.plan.warning == ""
    assert c.services.packages.sale(c.billing, sale).usage.used == 0  # booked without packages


def test_no_warning_when_no_auto_selected_package_would_be_used(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sold_and_paid(c, maddy, ten_massages(c))  # not auto-selected: never used silently
    source = book(c, maddy, when=MONDAY)
    assert c.services.appointment_copies.plan(c.billing, CopyRequest(maddy, (source,), 2)
                                              ).warning == ""


def test_copying_a_class_plans_each_participants_own_package(db: Database) -> None:
    c = small_clinic(db)
    maddy, ola = c.patient(), c.patient("Ola", "Berg")
    sold_and_paid(c, maddy, ten_massages(c, auto_select=True))
    olas = sold_and_paid(c, ola, ten_massages(c, name="Ola's 10", auto_select=True))
    source = c.services.appointments.book(c.owner, maddy, c.practitioner_id,
                                          c.treatment("Massage 60 min"), c.location_id, MONDAY,
                                          kind=AppointmentKind.CLASS, others=[ola])
    plan = c.services.appointment_copies.plan(c.billing, CopyRequest(ola, (source,), 2))
    assert plan.places == 4
    assert plan.warning == ("These 4 visits would use 2 of the 10 uses left on Ola's 10 "
                            "(Ola Berg) and 2 of the 10 uses left on 10 Massages (Maddy Smith).")
    booked = c.services.appointment_copies.book(c.billing, CopyRequest(ola, (source,), 2))
    [first, _] = booked.appointment_ids
    assert c.services.packages.visit_coverage(c.billing, first, ola).sale_id == olas


def test_booking_copies_is_one_transaction_and_checks_its_input(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    source = book(c, maddy, when=MONDAY)
    book(c, c.patient("Ola", "Berg"), when=datetime(2026, 11, 30, 7, 0))  # the 2nd copy's slot
    before = appointments(db)
    with pytest.raises(Conflict, match="already booked"):
        c.services.appointment_copies.book(c.billing, CopyRequest(maddy, (source,), 3))
    assert appointments(db) == before  # the first copy went too
    with pytest.raises(ValidationError, match="after today"):
        c.services.appointment_copies.plan(c.billing, CopyRequest(maddy, (source,), 1,
                                                                  first_on=TODAY))
    with pytest.raises(ValidationError, match="between 1 and 52"):
        c.services.appointment_copies.plan(c.billing, CopyRequest(maddy, (source,), 0))


def test_a_practitioner_without_billing_books_copies_without_packages(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sold_and_paid(c, maddy, ten_massages(c, auto_select=True))
    source = book(c, maddy, when=MONDAY)
    practitioner = c.actor("psharma")
    request = CopyRequest(maddy, (source,), 2)
    assert c.services.appointment_copies.plan(practitioner, request).warning == ""
    with pytest.raises(PermissionDenied):
        c.services.appointment_copies.book(practitioner, request)
    booked = c.services.appointment_copies.book(practitioner, request, use_packages=False)
    assert len(booked.appointment_ids) == 2


def test_the_warning_reads_well_for_one_visit_the_last_use_and_unlimited_packages() -> None:
    sid = uuid.uuid4()
    one = CopyPlan([], [PackageDraw(sid, "10 Massages", "Maddy Smith", 1, 1)], places=1)
    assert one.warning == "This 1 visit would use the last use left on 10 Massages."
    unlimited = CopyPlan([], [PackageDraw(sid, "Monthly unlimited", "Maddy Smith", 3, None)],
                         places=3)
    assert unlimited.warning == "These 3 visits would use 3 uses of Monthly unlimited (unlimited)."
    assert CopyPlan([], [], places=3).warning == ""
