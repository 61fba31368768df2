"""Packages at the desk: set up, sell, redeem (every refusal rule), give back, edit, refund.

On SQLite and PostgreSQL. The clinic is the demo's catalog: "Massage 60 min" is $110.00 + 13 %.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desk_app.models import (
    AppointmentStatus,
    AuditEvent,
    Invoice,
    InvoiceStatus,
    PackageRedemption,
    PaymentMethod,
)
from desk_app.models.enums import ExpiryUnit
from desk_app.services.clock import FixedClock
from desk_app.services.db import AppendOnlyViolation, Database
from desk_app.services.errors import Conflict, PermissionDenied, ValidationError
from desk_app.services.package_plans import EligibleItem, PlanInput
from desk_app.services.package_terms import SaleStatus
from desk_app.services.packages import PackageRefused
from tests.builders import Clinic, small_clinic
from tests.db_fixtures import _truncate_all as truncate_all
from tests.pdf_checks import pdf_text


def ten_massages(c: Clinic, **extra: object) -> uuid.UUID:
    """10 uses, at most 5 of each massage length; $900.00 + 13 % = $1,017.00."""
    fields: dict[str, object] = {
        "name": "10 Massages", "price_cents": 90000, "tax_rate_bp": 1300, "uses": 10,
        "income_category": "Massage packages",
        "items": [EligibleItem(c.treatment("Massage 60 min"), 5),
                  EligibleItem(c.treatment("Massage 90 min"), 5)],
    }
    data = PlanInput(**{**fields, **extra})  # type: ignore[arg-type]
    return c.services.package_plans.create(c.owner, data)


_slot = iter(range(10_000))


def book(c: Clinic, patient: uuid.UUID, treatment: str = "Massage 60 min",
         when: datetime | None = None) -> uuid.UUID:
    """A visit at its own time (the practitioner is never double-booked)."""
    if when is None:
        n = next(_slot)
        when = datetime(2026, 11, 23, 8, 0) + timedelta(days=n // 6, hours=2 * (n % 6))
    return c.services.appointments.book(c.owner, patient, c.practitioner_id,
                                        c.treatment(treatment), c.location_id, when)


def sold_and_paid(c: Clinic, patient: uuid.UUID, plan: uuid.UUID) -> uuid.UUID:
    sold = c.services.packages.sell(c.billing, patient, plan, c.location_id)
    c.services.ledger.record_payment(c.billing, patient, PaymentMethod.CASH, sold.total_cents,
                                     apply_to=[sold.invoice_id])
    return sold.sale_id


def refused(rule: str, call: object, *args: object) -> PackageRefused:
    with pytest.raises(PackageRefused) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.rule == rule
    return caught.value


# ----- setting up ------------------------------------------------------------------------------


def test_setting_up_a_package_is_for_administrative_billing_and_checks_its_limits(
        db: Database) -> None:
    c = small_clinic(db)
    massage = c.treatment("Massage 60 min")
    with pytest.raises(PermissionDenied):
        c.services.package_plans.create(c.billing, PlanInput("X", 100, [EligibleItem(massage)]))
    with pytest.raises(ValidationError, match="at least one eligible item"):
        c.services.package_plans.create(c.owner, PlanInput("X", 100, []))
    with pytest.raises(ValidationError, match="cannot be more than the package's 10 uses"):
        c.services.package_plans.create(c.owner, PlanInput("X", 100, [EligibleItem(massage, 11)]))
    with pytest.raises(ValidationError, match="unlimited uses needs an expiry"):
        c.services.package_plans.create(c.owner, PlanInput("X", 100, [EligibleItem(massage)],
                                                           uses=None))
    plan = ten_massages(c)
    office = c.actor("office")  # Administrative/All Billing may set up packages too
    row = c.services.package_plans.plan(office, plan)
    assert (row.name, row.uses_text, row.expiry_text) == ("10 Massages", "10", "No expiry")
    assert sorted((i.treatment, i.max_uses) for i in row.items) == [
        ("Massage 60 min", 5), ("Massage 90 min", 5)]


# ----- selling ---------------------------------------------------------------------------------


def test_a_sold_package_awaits_payment_then_covers_a_visit_at_no_charge(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    plan = ten_massages(c)
    sold = c.services.packages.sell(c.billing, maddy, plan, c.location_id)
    assert sold.total_cents == 101700
    [row] = c.services.packages.sales_for_patient(c.billing, maddy)
    assert row.status is SaleStatus.AWAITING_PAYMENT
    visit = book(c, maddy)
    refused("not_paid", c.services.packages.redeem, c.billing, visit, sold.sale_id)

    c.services.ledger.record_payment(c.billing, maddy, PaymentMethod.CASH, 101700,
                                     apply_to=[sold.invoice_id])
    coverage = c.services.packages.redeem(c.billing, visit, sold.sale_id)
    assert coverage.package_name == "10 Massages"
    assert coverage.usage_text == "1 of 10 used, 9 left, no expiry"

    c.services.appointments.set_status(c.owner, visit, AppointmentStatus.ARRIVED)
    invoice_id = c.services.invoicing.invoice_appointment(c.owner, visit).invoice_id
    with db.reading() as s:
        invoice = s.get_one(Invoice, invoice_id)
        assert invoice.total_cents == 0  # the package's invoice holds the money
    summary = c.services.ledger.billing_summary(c.billing, maddy)
    assert "package: 10 Massages" in next(i.description for i in summary.invoices
                                           if i.id == invoice_id)
    assert (summary.balance.owing_cents, summary.balance.credit_cents) == (0, 0)
    [row] = c.services.packages.sales_for_patient(c.billing, maddy)
    assert (row.status, row.usage.used, row.usage.left) == (SaleStatus.ACTIVE, 1, 9)


def test_an_unpaid_package_is_deleted_but_a_paid_one_needs_its_payment_unapplied_first(
        db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    plan = ten_massages(c)
    unpaid = c.services.packages.sell(c.billing, maddy, plan)
    c.services.packages.delete_unpaid(c.billing, unpaid.sale_id)
    assert c.services.ledger.balance(c.billing, maddy).owing_cents == 0

    paid = c.services.packages.sell(c.billing, maddy, plan)
    payment = c.services.ledger.record_payment(c.billing, maddy, PaymentMethod.DEBIT, 5000,
                                               apply_to=[paid.invoice_id])
    with pytest.raises(Conflict, match="Unapply the payment first"):
        c.services.packages.delete_unpaid(c.billing, paid.sale_id)
    with db.reading() as s:
        assert s.get_one(Invoice, paid.invoice_id).status is InvoiceStatus.OPEN
    c.services.ledger.unapply(c.billing, payment.payment_id, paid.invoice_id)
    c.services.packages.delete_unpaid(c.billing, paid.sale_id)
    balance = c.services.ledger.balance(c.billing, maddy)
    assert (balance.owing_cents, balance.credit_cents) == (0, 5000)
    statuses = {r.id: r.status for r in c.services.packages.sales_for_patient(c.billing, maddy)}
    assert statuses == {unpaid.sale_id: SaleStatus.CLOSED, paid.sale_id: SaleStatus.CLOSED}


# ----- redeeming: every refusal rule -----------------------------------------------------------


def test_each_refusal_names_the_rule_that_failed(db: Database) -> None:
    c = small_clinic(db)
    maddy, other = c.patient(), c.patient("Ola", "Berg")
    sale = sold_and_paid(c, maddy, ten_massages(c))
    packages = c.services.packages

    refused("not_purchaser", packages.redeem, c.billing, book(c, other), sale)
    refused("not_eligible", packages.redeem, c.billing, book(c, maddy, "Physio follow-up"), sale)
    for _ in range(5):
        packages.redeem(c.billing, book(c, maddy, "Massage 90 min"), sale)
    err = refused("item_limit", packages.redeem, c.billing, book(c, maddy, "Massage 90 min"), sale)
    assert "at most 5 uses for Massage 90 min" in err.message
    for _ in range(5):
        packages.redeem(c.billing, book(c, maddy), sale)
    refused("used_up", packages.redeem, c.billing, book(c, maddy), sale)

    with pytest.raises(Conflict, match="already covered"):
        visit = book(c, maddy)
        second = sold_and_paid(c, maddy, ten_massages(c, name="Another 10"))
        packages.redeem(c.billing, visit, second)
        packages.redeem(c.billing, visit, second)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(PackageRedemption)) == 11
    options = packages.visit_coverage(c.billing, book(c, maddy, "Physio follow-up")).options
    assert all("not an eligible item" in o.refusal for o in options)


def test_expiry_is_checked_at_the_boundary_in_the_clinics_time_zone(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    # Sold on Saturday 2026-11-21 (14:00 in Toronto); 30 days: the last day is 2026-12-20.
    plan = ten_massages(c, expiry_unit=ExpiryUnit.DAYS, expiry_count=30)
    sale = sold_and_paid(c, maddy, plan)
    assert c.services.packages.sale(c.billing, sale).usage.expires_on == date(2026, 12, 20)
    # 23:00 on Dec 20 in Toronto is already Dec 21 in UTC: still allowed.
    last_evening = book(c, maddy, when=datetime(2026, 12, 20, 23, 0))
    c.services.packages.redeem(c.billing, last_evening, sale)
    first_morning = book(c, maddy, when=datetime(2026, 12, 21, 0, 30))
    err = refused("expired", c.services.packages.redeem, c.billing, first_morning, sale)
    assert "expired on 2026-12-20" in err.message
    # The desk extends it (blank = never expires); now it covers the visit.
    c.services.packages.set_expiry(c.owner, sale, None)
    c.services.packages.redeem(c.billing, first_morning, sale)


def test_household_members_may_use_a_shared_package_and_no_one_else(db: Database) -> None:
    c = small_clinic(db)
    mum, son, neighbour = c.patient("Ana", "Silva"), c.patient("Leo", "Silva"), c.patient()
    private = sold_and_paid(c, mum, ten_massages(c))
    shared = sold_and_paid(c, mum, ten_massages(c, name="Family 10",
                                                shared_with_household=True))
    c.services.packages.join_household(c.owner, son, mum)
    refused("not_purchaser", c.services.packages.redeem, c.billing, book(c, son), private)
    refused("not_purchaser", c.services.packages.redeem, c.billing, book(c, neighbour), shared)
    coverage = c.services.packages.redeem(c.billing, book(c, son), shared)
    assert coverage.usage_text.startswith("1 of 10 used")
    # The son sees the family package among his purchases; its use counts for everyone.
    assert [r.name for r in c.services.packages.sales_for_patient(c.billing, son)] == ["Family 10"]
    [mums_shared] = [r for r in c.services.packages.sales_for_patient(c.billing, mum)
                     if r.id == shared]
    assert mums_shared.usage.used == 1


def test_removing_the_package_from_a_visit_gives_the_use_back(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c))
    visit = book(c, maddy)
    c.services.packages.redeem(c.billing, visit, sale)
    c.services.appointments.set_status(c.owner, visit, AppointmentStatus.ARRIVED)
    covered = c.services.invoicing.invoice_appointment(c.owner, visit).invoice_id

    c.services.packages.remove_from_appointment(c.billing, visit)
    assert c.services.packages.sale(c.billing, sale).usage.used == 0
    with db.reading() as s:  # the $0 visit invoice went with it; two rows, none edited
        assert s.get_one(Invoice, covered).status is InvoiceStatus.DELETED
        assert sorted(r.uses for r in s.scalars(select(PackageRedemption))) == [-1, 1]
    # Now the visit is invoiced at its full price.
    full = c.services.invoicing.invoice_appointment(c.owner, visit)
    assert full.total_cents == 12430
    with pytest.raises(Conflict, match="No package is used"):
        c.services.packages.remove_from_appointment(c.billing, visit)


def test_an_additional_charge_package_gives_a_non_zero_receipt_and_keeps_it_while_paid(
        db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    plan = ten_massages(c, name="Insurer-friendly 10", additional_charge_cents=2000)
    sale = sold_and_paid(c, maddy, plan)
    visit = book(c, maddy)
    c.services.packages.redeem(c.billing, visit, sale)
    c.services.appointments.set_status(c.owner, visit, AppointmentStatus.ARRIVED)
    created = c.services.invoicing.invoice_appointment(c.owner, visit)
    assert created.total_cents == 2260  # $20.00 + 13 %: what the insurer sees
    c.services.ledger.record_payment(c.billing, maddy, PaymentMethod.CASH, 2260,
                                     apply_to=[created.invoice_id])
    with pytest.raises(Conflict, match="Unapply the payment first"):
        c.services.packages.remove_from_appointment(c.billing, visit)
    assert c.services.packages.sale(c.billing, sale).usage.used == 1


def test_a_visit_invoiced_at_full_price_is_not_covered_silently(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c))
    visit = book(c, maddy)
    c.services.appointments.set_status(c.owner, visit, AppointmentStatus.ARRIVED)
    c.services.invoicing.invoice_appointment(c.owner, visit)
    with pytest.raises(Conflict, match="already invoiced at its full price"):
        c.services.packages.redeem(c.billing, visit, sale)


def test_auto_selection_applies_the_package_and_warns_before_booking_copies(
        db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c, auto_select=True))
    warning = c.services.packages.uses_booking_would_take(
        c.billing, maddy, c.treatment("Massage 60 min"), 4)
    assert warning == "Booking 4 visits will use 10 Massages automatically (10 left)."
    assert c.services.packages.uses_booking_would_take(
        c.billing, maddy, c.treatment("Physio follow-up"), 4) == ""
    coverage = c.services.packages.auto_redeem(c.billing, book(c, maddy))
    assert coverage.sale_id == sale


def test_redemptions_are_append_only(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c))
    c.services.packages.redeem(c.billing, book(c, maddy), sale)
    with pytest.raises(AppendOnlyViolation), db.transaction() as s:
        s.scalars(select(PackageRedemption)).one().uses = -1


@pytest.fixture
def pg_db(pg_migrated_url: str, clock: FixedClock) -> Iterator[Database]:
    """PostgreSQL alone: row locks between desks are a PostgreSQL matter (SQLite has one
    writer at a time)."""
    database = Database(pg_migrated_url, clock, run_migrations=False)
    truncate_all(database)
    yield database
    database.dispose()


@pytest.mark.pg
def test_two_desks_cannot_both_take_the_last_use(pg_db: Database) -> None:
    c = small_clinic(pg_db)
    maddy = c.patient()
    plan = c.services.package_plans.create(c.owner, PlanInput(
        "One visit", 11000, [EligibleItem(c.treatment("Massage 60 min"))], uses=1))
    sale = sold_and_paid(c, maddy, plan)
    visits = [book(c, maddy), book(c, maddy)]
    desks = [c.actor("billing"), c.actor("frontdesk")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def desk(i: int) -> None:
        barrier.wait()
        try:
            c.services.packages.redeem(desks[i], visits[i], sale)
            outcomes.append("used")
        except PackageRefused as exc:
            outcomes.append(exc.rule)

    threads = [threading.Thread(target=desk, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["used", "used_up"]
    assert c.services.packages.sale(c.billing, sale).usage.used == 1


# ----- editing -------------------------------------------------------------------------------


@pytest.mark.parametrize("update_sold", [True, False])
def test_editing_a_plan_updates_sold_packages_only_when_asked(db: Database,
                                                              update_sold: bool) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    plan = ten_massages(c)
    sale = sold_and_paid(c, maddy, plan)
    row = c.services.package_plans.plan(c.owner, plan)
    edited = row.input()
    physio = c.treatment("Physio follow-up")
    new = PlanInput(**{**{f: getattr(edited, f) for f in edited.__dataclass_fields__},
                       "name": "12 Visits", "uses": 12, "income_category": "Packages",
                       "items": [*edited.items, EligibleItem(physio)]})
    changed = c.services.package_plans.update(c.owner, plan, new, update_sold=update_sold)
    assert changed == (1 if update_sold else 0)
    mine = c.services.packages.sale(c.billing, sale)
    assert (mine.name, mine.usage.total) == (("12 Visits", 12) if update_sold
                                             else ("10 Massages", 10))
    physio_visit = book(c, maddy, "Physio follow-up")
    if update_sold:
        c.services.packages.redeem(c.billing, physio_visit, sale)
    else:
        refused("not_eligible", c.services.packages.redeem, c.billing, physio_visit, sale)
    # A new sale always has the new terms.
    newer = c.services.packages.sell(c.billing, maddy, plan)
    assert c.services.packages.sale(c.billing, newer.sale_id).name == "12 Visits"


# ----- refunds -------------------------------------------------------------------------------


def test_a_pro_rata_refund_to_credit_closes_the_package(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c))
    for _ in range(3):
        c.services.packages.redeem(c.billing, book(c, maddy), sale)
    assert c.services.packages.refund_preview(c.billing, sale) == (71190, 101700)
    result = c.services.packages.refund(c.billing, sale)
    assert (result.amount_cents, result.to) == (71190, "credit")
    balance = c.services.ledger.balance(c.billing, maddy)
    assert (balance.owing_cents, balance.credit_cents) == (0, 71190)
    row = c.services.packages.sale(c.billing, sale)
    assert (row.status, row.refunded_cents) == (SaleStatus.CLOSED, 71190)
    refused("closed", c.services.packages.redeem, c.billing, book(c, maddy), sale)
    with pytest.raises(Conflict, match="already closed"):
        c.services.packages.refund(c.billing, sale)


def test_a_chosen_refund_cannot_exceed_what_was_paid(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c))
    with pytest.raises(ValidationError, match=r"Only \$1,017.00 was paid"):
        c.services.packages.refund(c.billing, sale, amount_cents=101701)
    with pytest.raises(ValidationError, match="No card payment"):
        c.services.packages.refund(c.billing, sale, amount_cents=5000, to="card")
    with pytest.raises(PermissionDenied):
        c.services.packages.refund(c.desk, sale, amount_cents=5000)
    assert c.services.packages.sale(c.billing, sale).status is SaleStatus.ACTIVE
    c.services.packages.refund(c.billing, sale, amount_cents=5000)
    assert c.services.ledger.balance(c.billing, maddy).credit_cents == 5000


# ----- receipts and audit --------------------------------------------------------------------


def test_the_package_visit_receipt_shows_the_package_and_uses_remaining(db: Database) -> None:
    c = small_clinic(db)
    maddy = c.patient()
    sale = sold_and_paid(c, maddy, ten_massages(c, expiry_unit=ExpiryUnit.MONTHS,
                                                 expiry_count=6))
    first, second = book(c, maddy), book(c, maddy)
    c.services.packages.redeem(c.billing, first, sale)
    c.services.packages.redeem(c.billing, second, sale)
    document = c.services.packages.visit_receipt(c.billing, first)
    text = pdf_text(document.data)
    assert "10 Massages" in text
    assert "9 of 10" in text  # after the first visit, whatever came later
    assert "8 of 10" in pdf_text(c.services.packages.visit_receipt(c.billing, second).data)
    assert document.reference.startswith("P-DESK1-")
    with db.reading() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"package_plan.created", "package.sold", "package.redeemed"} <= actions
