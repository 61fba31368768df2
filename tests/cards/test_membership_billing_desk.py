"""With synced caches one workstation bills memberships on schedule, so two desks never
invoice and charge one period twice; the charge's idempotency key is the period's own."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from desk_app.models import AuditEvent
from desk_app.models.card_attempts import ChargeAttempt
from desk_app.models.clinic import Clinic
from desk_app.models.enums import PlanKind, Recurrence
from desk_app.services.actor import Actor
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.package_plans import EligibleItem, PlanInput
from desk_app.services.registry import Services
from tests.stripe_fixtures import CardClinic


def monthly(c: CardClinic) -> uuid.UUID:
    return c.services.package_plans.create(c.owner, PlanInput(
        name="Massage club", price_cents=5000, kind=PlanKind.MEMBERSHIP,
        recurrence=Recurrence.MONTHLY, uses=2,
        items=[EligibleItem(c.clinic.treatment("Massage 60 min"))]))


def at(actor: Actor, workstation: str) -> Actor:
    return dataclasses.replace(actor, workstation=workstation)


def synced_services(c: CardClinic, clock: FixedClock) -> tuple[Database, Services]:
    """The same database opened the way a desk with a central database opens its cache."""
    db = Database(c.db.url, clock, run_migrations=False, capture_changes=True)
    return db, Services.build(db)


def billing_desk(db: Database) -> str:
    with db.reading() as s:
        return s.scalars(select(Clinic.membership_billing_workstation)).one()


def test_on_synced_caches_the_first_desk_to_run_the_schedule_bills_and_others_do_not(
    card_clinic: CardClinic, clock: FixedClock
) -> None:
    c = card_clinic
    c.add_card()
    plan = monthly(c)
    c.services.memberships.start(c.billing, c.patient_id, plan, charge_card=False)
    db, services = synced_services(c, clock)
    try:
        memberships = services.memberships
        clock.advance(timedelta(days=31))
        assert billing_desk(db) == ""
        [billed] = memberships.run_due(at(c.billing, "DESK2"))  # claims the job
        assert billing_desk(db) == "DESK2"
        assert memberships.billing_workstation(c.billing) == "DESK2"
        clock.advance(timedelta(days=31))
        assert memberships.run_due(at(c.billing, "DESK1")) == []  # not this desk's job
        # An admin moves it (say DESK2 was replaced): now DESK1 bills and DESK2 does not.
        memberships.bill_from_this_workstation(at(c.owner, "DESK1"))
        assert memberships.run_due(at(c.billing, "DESK2")) == []
        [next_period] = memberships.run_due(at(c.billing, "DESK1"))
        assert (billed.period_start, next_period.period_start) == (date(2026, 12, 21),
                                                                  date(2027, 1, 21))
        with db.reading() as s:
            moves = s.scalars(select(AuditEvent.summary).where(
                AuditEvent.action == "clinic.membership_billing_desk")).all()
        assert moves == ["Memberships are billed on workstation DESK2",
                         "Memberships are billed on workstation DESK1"]
        # Running one membership on purpose (as starting one does) works from any desk.
        clock.advance(timedelta(days=31))
        [on_purpose] = memberships.run_due(at(c.billing, "DESK3"),
                                           membership_id=billed.membership_id)
        assert not on_purpose.charged and on_purpose.message == "Not charged automatically."
    finally:
        db.dispose()


def test_one_database_for_every_desk_needs_no_billing_desk(
    card_clinic: CardClinic, clock: FixedClock
) -> None:
    """Standalone, or every desk on one PostgreSQL: the row lock already bills a period once."""
    c = card_clinic
    c.services.memberships.start(c.billing, c.patient_id, monthly(c), charge_card=False)
    with c.db.transaction() as s:
        s.scalars(select(Clinic)).one().membership_billing_workstation = "DESK9"
    clock.advance(timedelta(days=31))
    assert len(c.services.memberships.run_due(at(c.billing, "DESK1"))) == 1
    assert c.services.memberships.run_due(at(c.billing, "DESK2")) == []


def test_the_card_charge_key_is_made_from_the_membership_and_its_period(
    card_clinic: CardClinic, clock: FixedClock
) -> None:
    """Two desks that both billed one period (claimed while apart) send Stripe the same
    idempotency key for it, so the money moves once; the key is not the desk's invoice."""
    c = card_clinic
    c.add_card()
    [first] = c.services.memberships.start(c.billing, c.patient_id, monthly(c))
    assert first.charged
    request = uuid.uuid5(uuid.NAMESPACE_URL,
                         f"membership:{first.membership_id}:{first.period_start}")
    with c.db.reading() as s:
        keys = s.scalars(select(ChargeAttempt.idempotency_key)).all()
    assert keys == [f"fd-ch-{request.hex}"]
