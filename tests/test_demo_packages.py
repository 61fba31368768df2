"""The demo clinic has packages to show: plans, packages sold (paid and used, awaiting payment,
shared with a household, expiring soon), a membership; the usage report and "My day" list them;
and the rows obey the ledger's and the packages' rules, the same every time."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from desk_app.models import Allocation, Invoice, InvoiceLine, InvoiceStatus, Payment, Staff
from desk_app.models.appointment import Appointment
from desk_app.models.enums import AppointmentStatus, PlanKind
from desk_app.models.packages import (
    HouseholdMember,
    PackagePlan,
    PackageRedemption,
    PackageSale,
    PackageSaleItem,
)
from desk_app.services.actor import Actor
from desk_app.services.clock import FixedClock, clinic_today, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from desk_app.services.package_reports import UsageFilter
from desk_app.services.package_terms import SaleStatus
from desk_app.services.registry import Services
from tests.db_fixtures import TEST_NOW, actor_named

TODAY = date(2026, 11, 21)  # TEST_NOW in Toronto


def _sales(services: Services, owner: Actor) -> list[tuple[str, str, SaleStatus, str]]:
    with services.db.reading() as s:
        buyers = sorted(set(s.scalars(select(PackageSale.patient_id))))
    return sorted((r.purchaser, r.name, r.status, r.usage_text)
                  for p in buyers for r in services.packages.sales_for_patient(owner, p)
                  if r.patient_id == p)


def test_demo_clinic_sells_packages_of_every_kind(demo_services: Services) -> None:
    owner = actor_named(demo_services.db, "owner")
    plans = demo_services.package_plans.plans(owner)
    assert [(p.name, p.kind) for p in plans] == [
        ("Wellness", PlanKind.MEMBERSHIP),
        ("Chiro 10 (insurer)", PlanKind.PACKAGE),
        ("Massage 10-Visit Pass", PlanKind.PACKAGE),
        ("Physio Family Pack", PlanKind.PACKAGE),
    ]
    sales = _sales(demo_services, owner)
    statuses = Counter(status for _, _, status, _ in sales)
    assert statuses == {SaleStatus.ACTIVE: 5, SaleStatus.AWAITING_PAYMENT: 1,
                        SaleStatus.EXPIRED: 2}  # 2: the membership's past periods
    usage = {(name, text) for _, name, _, text in sales}
    assert ("Massage 10-Visit Pass", "5 of 10 used, 5 left, expires 2027-07-23") in usage
    assert ("Massage 10-Visit Pass", "7 of 10 used, 3 left, expires 2026-11-30") in usage
    assert ("Physio Family Pack", "4 of 6 used, 2 left, expires 2027-03-21") in usage
    assert ("Chiro 10 (insurer)", "0 of 10 used, 10 left, expires 2027-11-20"
            ) in usage
    assert ("Wellness", "1 of 2 used, 1 left, expires 2026-12-11") in usage


def test_the_household_member_sees_the_shared_pack(demo_services: Services) -> None:
    owner = actor_named(demo_services.db, "owner")
    with demo_services.db.reading() as s:
        members = list(s.scalars(select(HouseholdMember.patient_id)))
        buyer = s.scalars(select(PackageSale.patient_id).where(
            PackageSale.shared_with_household.is_(True))).one()
    [relative] = [m for m in members if m != buyer]
    [shared] = demo_services.packages.sales_for_patient(owner, relative)
    assert shared.name == "Physio Family Pack" and shared.patient_id == buyer


def test_the_usage_report_and_my_day_show_the_demo_packages(demo_services: Services) -> None:
    owner = actor_named(demo_services.db, "owner")
    rows = demo_services.package_reports.usage(owner, UsageFilter(date(2026, 11, 1), TODAY))
    assert [(r.package, r.uses_in_period, r.uses_to_date) for r in rows] == [
        ("Massage 10-Visit Pass", 2, 5), ("Physio Family Pack", 2, 4),
        ("Chiro 10 (insurer)", 3, 4), ("Wellness", 1, 1)]
    okoye = actor_named(demo_services.db, "dokoye")
    day = demo_services.package_reports.my_day(okoye)
    assert [(r.starts_at.hour, r.package, r.uses_left) for r in day] == [
        (11, "Wellness", "Wellness: 1 left"),
        (18, "Massage 10-Visit Pass", "Massage 10-Visit Pass: 5 left")]
    sharma = actor_named(demo_services.db, "psharma")  # sees a household member's shared pack
    assert [(r.package, r.uses_left) for r in demo_services.package_reports.my_day(sharma)
            ] == [("Physio Family Pack", "Physio Family Pack: 2 left")]


def test_demo_packages_obey_the_ledger_and_package_rules(demo_db: Database) -> None:
    with demo_db.reading() as s:
        tz = "America/Toronto"
        invoices = {i.id: i for i in s.scalars(select(Invoice))}
        applied: Counter[object] = Counter()
        allocated: Counter[object] = Counter()
        for a in s.scalars(select(Allocation)):
            applied[a.invoice_id] += a.amount_cents
            allocated[a.payment_id] += a.amount_cents
        for invoice_id, amount in applied.items():
            assert 0 <= amount <= invoices[invoice_id].total_cents
        for payment in s.scalars(select(Payment)):
            assert 0 <= allocated[payment.id] <= payment.amount_cents
        for invoice in invoices.values():
            lines = list(s.scalars(select(InvoiceLine).where(
                InvoiceLine.invoice_id == invoice.id)))
            assert sum(line.total_cents for line in lines) == invoice.total_cents
        for sale in s.scalars(select(PackageSale)):
            invoice = invoices[sale.invoice_id]
            assert invoice.total_cents == sale.price_cents
            assert invoice.status == InvoiceStatus.OPEN
            uses = list(s.scalars(select(PackageRedemption).where(
                PackageRedemption.sale_id == sale.id)))
            assert all(u.uses == 1 for u in uses)
            assert len(uses) <= (sale.uses_total or len(uses))
            if uses:  # used only once paid
                assert applied[invoice.id] == invoice.total_cents
            limits = {i.treatment_type_id: i.max_uses for i in s.scalars(
                select(PackageSaleItem).where(PackageSaleItem.sale_id == sale.id))}
            per_item = Counter(u.treatment_type_id for u in uses)
            for treatment, count in per_item.items():
                assert treatment in limits, "used on an item the package does not cover"
                assert count <= (limits[treatment] or count)
            for use in uses:
                day = to_clinic_time(use.visit_at, tz).date()
                assert sale.expires_on is None or day <= sale.expires_on
                assert use.visit_at >= sale.sold_at
                assert use.created_at <= TEST_NOW
                visit = s.get_one(Appointment, use.appointment_id)
                assert (visit.starts_at, visit.treatment_type_id) == (
                    use.visit_at, use.treatment_type_id)
                assert use.patient_id == sale.patient_id or sale.shared_with_household
                # An arrived visit is invoiced once, at the package's per-visit charge, paid.
                lines = list(s.scalars(select(InvoiceLine).where(
                    InvoiceLine.appointment_id == visit.id)))
                if visit.status == AppointmentStatus.ARRIVED:
                    [line] = lines
                    assert line.unit_price_cents == sale.additional_charge_cents
                    assert f"(package: {sale.name})" in line.description
                    assert applied[line.invoice_id] == invoices[line.invoice_id].total_cents
                else:
                    assert visit.status == AppointmentStatus.BOOKED and lines == []
        # Invoice numbers stay unique per workstation.
        assert s.scalar(select(func.count()).select_from(Invoice)) == s.scalar(
            select(func.count(func.distinct(Invoice.workstation + "-" + func.cast(
                Invoice.seq, type_=Invoice.workstation.type)))))


def _content(db: Database) -> list[tuple[object, ...]]:
    """The demo's package rows without their (random) ids."""
    with db.reading() as s:
        sales = [tuple(row) for row in s.execute(
            select(PackageSale.name, PackageSale.sold_at, PackageSale.expires_on,
                   PackageSale.price_cents, PackageSale.uses_total)
            .order_by(PackageSale.sold_at))]
        uses = [tuple(row) for row in s.execute(
            select(PackageRedemption.visit_at, PackageRedemption.uses)
            .order_by(PackageRedemption.visit_at))]
        plans = list(s.scalars(select(PackagePlan.name).order_by(PackagePlan.name)))
    return [*sales, *uses, tuple(plans)]


def test_the_demo_is_the_same_every_time(tmp_path: Path) -> None:
    made = []
    for name in ("a", "b"):
        db = Database(f"sqlite:///{tmp_path / name}.sqlite3", FixedClock(TEST_NOW))
        create_demo_clinic(db, patients=20)
        made.append(_content(db))
        with db.reading() as s:
            assert s.scalar(select(func.count()).select_from(Staff)) > 0
            assert clinic_today(db.clock, "America/Toronto") == TODAY
        db.dispose()
    assert made[0] == made[1] and len(made[0]) > 20
    assert made[0][0][1].date() >= TODAY - timedelta(days=356)
