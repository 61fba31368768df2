"""Memberships charged to the card on file over a simulated year; package refunds to the card.

The real stripe SDK against localstripe, on SQLite and PostgreSQL, with the test clock moved.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from desk_app.models import PaymentMethod, Refund
from desk_app.models.enums import PlanKind, Recurrence
from desk_app.services.card_payments import ChosenInvoices
from desk_app.services.clock import FixedClock
from desk_app.services.errors import Conflict
from desk_app.services.package_plans import EligibleItem, PlanInput
from desk_app.services.packages import PackageRefused
from tests.stripe_fixtures import DECLINES_ON_CHARGE, CardClinic


def monthly_massage(c: CardClinic) -> object:
    return c.services.package_plans.create(c.owner, PlanInput(
        name="Massage club", price_cents=5000, kind=PlanKind.MEMBERSHIP,
        recurrence=Recurrence.MONTHLY, uses=2,
        items=[EligibleItem(c.clinic.treatment("Massage 60 min"))]))


def test_a_membership_over_a_year_is_invoiced_and_charged_each_month_then_a_charge_fails(
        card_clinic: CardClinic, clock: FixedClock) -> None:
    c = card_clinic
    c.add_card()
    plan = monthly_massage(c)
    memberships = c.services.memberships
    first = memberships.start(c.billing, c.patient_id, plan)  # type: ignore[arg-type]
    assert [(b.period_start, b.charged) for b in first] == [(date(2026, 11, 21), True)]
    # A run the same day invoices nothing more.
    assert memberships.run_due(c.billing) == []
    starts = [date(2026, 11, 21)]
    for _ in range(12):
        clock.advance(timedelta(days=31))
        for billed in memberships.run_due(c.billing):
            assert billed.charged, billed.message
            starts.append(billed.period_start)
    # No drift and no period skipped or repeated: the 21st of every month for a year.
    assert starts == [date(2026 + (10 + m) // 12, (10 + m) % 12 + 1, 21) for m in range(13)]
    charges = c.stripe_charges()
    assert len(charges) == 13 and {ch["amount"] for ch in charges} == {5000}
    sales = [s for s in c.services.packages.sales_for_patient(c.billing, c.patient_id)
             if s.kind is PlanKind.MEMBERSHIP]
    assert len(sales) == 13 and all(s.paid_cents == 5000 for s in sales)
    assert sales[0].usage.expires_on == date(2027, 12, 20)  # the current period's last day

    # The card is replaced by one the bank declines: the desk is told, the invoice stays open.
    c.add_card(DECLINES_ON_CHARGE)
    clock.advance(timedelta(days=31))
    [failed] = memberships.run_due(c.billing)
    assert not failed.charged
    [notice] = memberships.notices(c.billing)
    assert "Membership charge of $50.00 for Maddy Smith failed" in notice.message
    assert "pay-balance link" in notice.message
    assert notice.invoice_id == failed.invoice_id
    assert c.owing() >= 5000
    memberships.dismiss(c.billing, notice.id)
    assert memberships.notices(c.billing) == []

    [membership] = memberships.for_patient(c.billing, c.patient_id)
    memberships.cancel(c.billing, membership.id)
    clock.advance(timedelta(days=62))
    assert memberships.run_due(c.billing) == []
    with pytest.raises(Conflict, match="already cancelled"):
        memberships.cancel(c.billing, membership.id)


def test_a_membership_periods_uses_end_with_the_period(card_clinic: CardClinic,
                                                       clock: FixedClock) -> None:
    c = card_clinic
    c.add_card()
    plan = monthly_massage(c)
    [billed] = c.services.memberships.start(c.billing, c.patient_id, plan)  # type: ignore[arg-type]
    [sale] = [s for s in c.services.packages.sales_for_patient(c.billing, c.patient_id)
              if s.invoice_id == billed.invoice_id]
    book = c.services.appointments.book
    massage = c.clinic.treatment("Massage 60 min")
    inside = book(c.owner, c.patient_id, c.clinic.practitioner_id, massage,
                  c.clinic.location_id, datetime(2026, 12, 20, 17, 0))
    after = book(c.owner, c.patient_id, c.clinic.practitioner_id, massage,
                 c.clinic.location_id, datetime(2026, 12, 21, 9, 0))
    c.services.packages.redeem(c.billing, inside, sale.id)
    with pytest.raises(PackageRefused) as caught:
        c.services.packages.redeem(c.billing, after, sale.id)
    assert caught.value.rule == "expired"


def test_a_package_paid_by_card_is_refunded_to_the_card_exactly_once(
        card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    plan = c.services.package_plans.create(c.owner, PlanInput(
        name="5 Massages", price_cents=50000, uses=5,
        items=[EligibleItem(c.clinic.treatment("Massage 60 min"))]))
    sold = c.services.packages.sell(c.billing, c.patient_id, plan)
    outcome = c.services.card_payments.charge_card(c.billing, c.patient_id, card.id,
                                                   ChosenInvoices((sold.invoice_id,)))
    assert outcome.succeeded, outcome.message
    owing_before = c.owing()
    result = c.services.packages.refund(c.billing, sold.sale_id, amount_cents=12345, to="card")
    assert result.card is not None and result.card.succeeded, result.message
    with c.db.reading() as s:
        [refund] = s.scalars(select(Refund)).all()
        assert (refund.amount_cents, refund.method) == (12345, PaymentMethod.CARD)
        assert refund.stripe_refund_id
    # The package's invoice stays paid (the refund's credit took the card's place on it); no
    # credit is left over and nothing more is owed.
    assert (c.owing(), c.credit()) == (owing_before, 0)
    row = c.services.packages.sale(c.billing, sold.sale_id)
    assert row.refunded_cents == 12345 and row.status.value == "closed"
