"""Package arithmetic, the usage and sales reports (filters against hand-computed figures),
and a practitioner's "My day". SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import select

from desk_app.models import Location, PaymentMethod, Staff
from desk_app.models.enums import ExpiryUnit, PlanKind, Recurrence
from desk_app.services.db import Database
from desk_app.services.errors import PermissionDenied, ValidationError
from desk_app.services.package_plans import EligibleItem, PlanInput
from desk_app.services.package_reports import UsageFilter
from desk_app.services.package_terms import (
    Usage,
    add_months,
    expiry_date,
    next_period,
    pro_rata_refund,
)
from tests.builders import Clinic, small_clinic

# ----- the arithmetic ------------------------------------------------------------------------


def test_expiry_counts_the_day_of_sale_and_clamps_month_ends() -> None:
    assert expiry_date(date(2026, 11, 21), ExpiryUnit.DAYS, 30) == date(2026, 12, 20)
    assert expiry_date(date(2026, 1, 15), ExpiryUnit.MONTHS, 3) == date(2026, 4, 14)
    assert expiry_date(date(2026, 1, 15), ExpiryUnit.NONE, 3) is None
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert next_period(date(2027, 1, 31), Recurrence.MONTHLY, 2) == date(2027, 3, 31)
    assert next_period(date(2026, 12, 28), Recurrence.WEEKLY) == date(2027, 1, 4)
    assert next_period(date(2028, 2, 29), Recurrence.YEARLY) == date(2029, 2, 28)


def test_usage_text_and_pro_rata_refunds_round_down() -> None:
    assert Usage(3, 10, date(2027, 3, 1)).text == "3 of 10 used, 7 left, expires 2027-03-01"
    assert Usage(4, None, None).text == "4 used, unlimited, no expiry"
    assert pro_rata_refund(100000, 3, 1) == 66666  # $666.666… → $666.66
    assert pro_rata_refund(100000, None, 1) == 0
    assert pro_rata_refund(100000, 10, 12) == 0


# ----- the reports ---------------------------------------------------------------------------


class Seeded:
    def __init__(self, c: Clinic) -> None:
        self.c = c
        with c.db.reading() as s:
            self.riverside = s.scalars(select(Location.id).where(
                Location.name == "Riverside")).one()
            self.sharma = s.scalars(select(Staff.id).where(Staff.username == "psharma")).one()
        plans = c.services.package_plans
        self.massages = plans.create(c.owner, PlanInput(
            "10 Massages", 90000, [EligibleItem(c.treatment("Massage 60 min"))], uses=10))
        self.physio = plans.create(c.owner, PlanInput(
            "5 Physio", 40000, [EligibleItem(c.treatment("Physio follow-up"))], uses=5))
        self.club = plans.create(c.owner, PlanInput(
            "Massage club", 5000, [EligibleItem(c.treatment("Massage 60 min"))], uses=None,
            kind=PlanKind.MEMBERSHIP, recurrence=Recurrence.MONTHLY))
        self.ana, self.ben = c.patient("Ana", "Aalto"), c.patient("Ben", "Brown")
        self.ana_massages = self.paid(self.ana, self.massages)
        self.ana_physio = self.paid(self.ana, self.physio)
        self.ben_massages = self.paid(self.ben, self.massages, location=self.riverside)
        [period] = c.services.memberships.start(c.billing, self.ben, self.club,
                                                 charge_card=False)
        c.services.ledger.record_payment(c.billing, self.ben, PaymentMethod.CASH, 5000,
                                         apply_to=[period.invoice_id])
        self.ben_club = next(s.id for s in c.services.packages.sales_for_patient(
            c.billing, self.ben) if s.kind is PlanKind.MEMBERSHIP)
        self.hour = 0
        # November: Ana 2 massages (Downtown, Okoye) + 1 physio (Riverside, Sharma);
        # Ben 1 massage from his package (Riverside) and 1 from his club (Downtown).
        self.use(self.ana, self.ana_massages, "Massage 60 min", date(2026, 11, 23))
        self.use(self.ana, self.ana_massages, "Massage 60 min", date(2026, 11, 24))
        self.use(self.ana, self.ana_physio, "Physio follow-up", date(2026, 11, 25),
                 location=self.riverside, practitioner=self.sharma)
        self.use(self.ben, self.ben_massages, "Massage 60 min", date(2026, 11, 26),
                 location=self.riverside)
        self.use(self.ben, self.ben_club, "Massage 60 min", date(2026, 11, 27))
        # December: one more for Ana; and one given back (it must not count).
        self.use(self.ana, self.ana_massages, "Massage 60 min", date(2026, 12, 2))
        back = self.use(self.ana, self.ana_massages, "Massage 60 min", date(2026, 12, 3))
        c.services.packages.remove_from_appointment(c.billing, back)

    def paid(self, patient: uuid.UUID, plan: uuid.UUID,
             location: uuid.UUID | None = None) -> uuid.UUID:
        c = self.c
        sold = c.services.packages.sell(c.billing, patient, plan, location or c.location_id)
        c.services.ledger.record_payment(c.billing, patient, PaymentMethod.CASH,
                                         sold.total_cents, apply_to=[sold.invoice_id])
        return sold.sale_id

    def use(self, patient: uuid.UUID, sale: uuid.UUID, treatment: str, day: date, *,
            location: uuid.UUID | None = None, practitioner: uuid.UUID | None = None
            ) -> uuid.UUID:
        c = self.c
        self.hour = (self.hour + 2) % 10
        visit = c.services.appointments.book(
            c.owner, patient, practitioner or c.practitioner_id, c.treatment(treatment),
            location or c.location_id, datetime(day.year, day.month, day.day, 8 + self.hour))
        c.services.packages.redeem(c.billing, visit, sale)
        return visit


@pytest.fixture
def seeded(db: Database) -> Seeded:
    return Seeded(small_clinic(db))


def _usage(seeded: Seeded, **filters: object) -> list[tuple[str, str, int, int, str]]:
    f = UsageFilter(**{"start": date(2026, 11, 1), "end": date(2026, 11, 30),  # type: ignore[arg-type]
                       **filters})
    return [(r.patient, r.package, r.uses_in_period, r.uses_to_date, r.left_text)
            for r in seeded.c.services.package_reports.usage(seeded.c.owner, f)]


def test_usage_report_filters_match_hand_counts(seeded: Seeded) -> None:
    s = seeded
    assert _usage(s) == [
        ("Ana Aalto", "10 Massages", 2, 3, "7"),  # 3 to date: the December one counts there
        ("Ana Aalto", "5 Physio", 1, 1, "4"),
        ("Ben Brown", "10 Massages", 1, 1, "9"),
        ("Ben Brown", "Massage club", 1, 1, "Unlimited"),
    ]
    assert _usage(s, location_id=s.riverside) == [
        ("Ana Aalto", "5 Physio", 1, 1, "4"), ("Ben Brown", "10 Massages", 1, 1, "9")]
    assert _usage(s, practitioner_id=s.sharma) == [("Ana Aalto", "5 Physio", 1, 1, "4")]
    assert _usage(s, plan_id=s.massages) == [
        ("Ana Aalto", "10 Massages", 2, 3, "7"), ("Ben Brown", "10 Massages", 1, 1, "9")]
    assert _usage(s, kind=PlanKind.MEMBERSHIP) == [("Ben Brown", "Massage club", 1, 1,
                                                    "Unlimited")]
    # December: Ana's one use; the use given back on Dec 3 nets to nothing.
    assert _usage(s, start=date(2026, 12, 1), end=date(2026, 12, 31)) == [
        ("Ana Aalto", "10 Massages", 1, 3, "7")]
    assert _usage(s, start=date(2026, 11, 24), end=date(2026, 11, 24)) == [
        ("Ana Aalto", "10 Massages", 1, 3, "7")]


def test_usage_report_is_for_administrative_billing_and_exports_csv(seeded: Seeded) -> None:
    c = seeded.c
    f = UsageFilter(date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(PermissionDenied):
        c.services.package_reports.usage(c.billing, f)
    with pytest.raises(ValidationError, match="before the start"):
        c.services.package_reports.usage(c.owner, UsageFilter(date(2026, 12, 1),
                                                              date(2026, 11, 1)))
    rows = c.services.package_reports.usage(c.actor("office"), f)
    table = list(csv.reader(io.StringIO(c.services.package_reports.usage_csv(rows))))
    assert table[0][:4] == ["Patient", "Package or membership", "Type", "Uses in period"]
    assert table[1] == ["Ana Aalto", "10 Massages", "Package", "2", "3", "10", "7", "Never"]
    assert table[4][2:] == ["Membership", "1", "1", "Unlimited", "Unlimited", "2026-12-20"]


def test_sales_report_lists_what_was_sold_paid_and_refunded(seeded: Seeded) -> None:
    c = seeded.c
    c.services.packages.refund(c.billing, seeded.ana_physio)  # 1 of 5 used: 4/5 of $400
    f = UsageFilter(date(2026, 11, 21), date(2026, 11, 21))
    rows = c.services.package_reports.sales(c.owner, f)
    assert [(r.patient, r.package, r.price_cents, r.paid_cents, r.refunded_cents)
            for r in rows] == [
        ("Ana Aalto", "10 Massages", 90000, 90000, 0),
        ("Ana Aalto", "5 Physio", 40000, 40000, 32000),
        ("Ben Brown", "10 Massages", 90000, 90000, 0),
        ("Ben Brown", "Massage club", 5000, 5000, 0),
    ]
    riverside = c.services.package_reports.sales(
        c.owner, UsageFilter(f.start, f.end, location_id=seeded.riverside))
    assert [r.patient for r in riverside] == ["Ben Brown"]
    text = c.services.package_reports.sales_csv(rows, "CAD")
    assert "Refunded" in text.splitlines()[0] and "$320.00" in text
    assert c.services.package_reports.sales(
        c.owner, UsageFilter(date(2026, 11, 22), date(2026, 11, 30))) == []


def test_my_day_lists_todays_visits_with_uses_left_and_balance(seeded: Seeded) -> None:
    c = seeded.c
    okoye = c.actor("dokoye")
    rows = c.services.package_reports.my_day(okoye, day=date(2026, 11, 23))
    assert [(r.patient, r.package, r.uses_left, r.owing_cents) for r in rows] == [
        ("Ana Aalto", "10 Massages", "10 Massages: 7 left; 5 Physio: 4 left", 0)]
    assert c.services.package_reports.my_day(okoye) == []  # nothing booked today


# ----- the usage report against a straightforward reference -----------------------------------


def _reference_usage(db: Database, f: UsageFilter, clinic_tz: str
                     ) -> list[tuple[str, str, str, PlanKind, int, int, int | None,
                                     date | None]]:
    """The usage report computed the plain way: every redemption read, summed in Python."""
    from collections import Counter

    from desk_app.models import PackagePlan, PackageRedemption, PackageSale, Patient
    from desk_app.services.package_reports import _utc_range

    lo, hi = _utc_range(f.start, f.end, clinic_tz)
    with db.reading() as s:
        in_period: Counter[uuid.UUID] = Counter()
        to_date: Counter[uuid.UUID] = Counter()
        for r in s.scalars(select(PackageRedemption)):
            to_date[r.sale_id] += r.uses
            if (lo <= r.visit_at < hi
                    and f.location_id in (None, r.location_id)
                    and f.practitioner_id in (None, r.practitioner_id)):
                in_period[r.sale_id] += r.uses
        rows = []
        for sale in s.scalars(select(PackageSale)):
            plan = s.get_one(PackagePlan, sale.plan_id)
            if (in_period[sale.id] == 0 or f.plan_id not in (None, sale.plan_id)
                    or f.kind not in (None, plan.kind)):
                continue
            name = s.get_one(Patient, sale.patient_id).display_name
            rows.append((name, sale.name, sale.id.hex, plan.kind, in_period[sale.id],
                         to_date[sale.id], sale.uses_total, sale.expires_on))
    rows.sort(key=lambda r: (r[0].lower(), r[1], r[2]))
    return rows


def test_usage_report_matches_a_plain_count_of_a_generated_clinic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """3,000 uses of 300 packages (some given back) over 2026, with two patients whose names
    differ only in case: every filter, by either query plan, gives the reference's rows."""
    from bench.package_usage import build
    from desk_app.models import Patient
    from desk_app.services.auth import actor_for
    from desk_app.services.clock import FixedClock
    from desk_app.services.registry import Services
    from tests.db_fixtures import TEST_NOW

    path = tmp_path / "generated.sqlite3"
    build(path, sales=300, redemptions=3000, patients=40)
    db = Database(f"sqlite:///{path}", FixedClock(TEST_NOW))
    with db.engine.begin() as conn:
        # Every 7th use given back (a -1 row beside it), as removing a package from a visit does.
        conn.exec_driver_sql(
            "INSERT INTO package_redemption (id, sale_id, appointment_id, patient_id, "
            "treatment_type_id, practitioner_id, location_id, visit_at, uses, reverses_id, "
            "created_by_id, workstation, created_at) SELECT lower(hex(randomblob(16))), "
            "sale_id, appointment_id, patient_id, treatment_type_id, practitioner_id, "
            "location_id, visit_at, -1, id, created_by_id, workstation, created_at "
            "FROM package_redemption WHERE rowid % 7 = 0")
    with db.transaction() as s:
        first, second = s.scalars(select(Patient).order_by(Patient.sort_key).limit(2))
        first.legal_first_name, first.legal_last_name = "ana", "aalto"
        second.legal_first_name, second.legal_last_name = "Ana", "Aalto"
        owner = actor_for(s.scalars(select(Staff).where(Staff.username == "owner")).one(),
                          "DESK1")
        riverside = s.scalars(select(Location.id).where(Location.name == "Riverside")).one()
        sharma = s.scalars(select(Staff.id).where(Staff.username == "psharma")).one()
    from desk_app.models import PackagePlan
    with db.reading() as s:
        plan = s.scalars(select(PackagePlan.id).order_by(PackagePlan.name)).first()
    reports = Services.build(db).package_reports
    june, year = (date(2026, 6, 1), date(2026, 6, 30)), (date(2026, 1, 1), date(2026, 12, 31))
    filters = [
        UsageFilter(*june), UsageFilter(*year), UsageFilter(date(2026, 3, 8), date(2026, 3, 8)),
        UsageFilter(*june, location_id=riverside), UsageFilter(*year, practitioner_id=sharma),
        UsageFilter(*june, plan_id=plan), UsageFilter(*year, kind=PlanKind.MEMBERSHIP),
        UsageFilter(*june, kind=PlanKind.PACKAGE, location_id=riverside),
        UsageFilter(date(2027, 1, 1), date(2027, 1, 31)),
    ]
    listed = 0
    for f in filters:
        expected = _reference_usage(db, f, "America/Toronto")
        listed += len(expected)
        for long_period in (None, True, False):
            got = [(r.patient, r.package, r.sale_id.hex, r.kind, r.uses_in_period,
                    r.uses_to_date, r.uses_total, r.expires_on)
                   for r in reports.usage(owner, f, long_period=long_period)]
            assert got == expected, (f, long_period)
    assert listed > 500
    names = [r.patient for r in reports.usage(owner, UsageFilter(*year))]
    assert {"ana aalto", "Ana Aalto"} <= set(names)
    db.dispose()
