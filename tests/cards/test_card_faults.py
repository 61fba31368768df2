"""Exactly once under faults: a dropped answer, a stall, a reset, a crash, a race.

Our real client talks to localstripe through tests/fault_proxy.py (1 s timeout). localstripe
ignores Idempotency-Key, so what keeps these to one charge is our own attempt/reconcile
protocol. After each fault (and the restart and reconciliation), exactly one charge exists at
Stripe and exactly one payment is recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desk_app.models import AttemptStatus, CardOnFile, StripeCustomer
from desk_app.services.card_payments import ChargeOutcome, ChosenInvoices
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.errors import Conflict
from desk_app.services.registry import Services
from desk_app.services.stripe_gateway import StripeGatewayFactory
from tests.cards.charging import charge_whole_balance
from tests.cards.crash_child import CRASH_EXIT
from tests.db_fixtures import _truncate_all as truncate_all
from tests.fault_proxy import Fault, FaultProxy
from tests.stripe_fixtures import SECRET_KEY, CardClinic, build_card_clinic, stripe_client

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _exactly_once(c: CardClinic, outcome: ChargeOutcome | None = None) -> None:
    charges = c.stripe_charges()
    assert len(charges) == 1, charges
    assert c.local_payments() == 1
    assert c.owing() == 0
    attempts = [a for a in c.attempts() if a.status is AttemptStatus.SUCCEEDED]
    assert len(attempts) == 1 and attempts[0].stripe_charge_id == charges[0]["id"]
    if outcome is not None:
        assert outcome.succeeded and outcome.attempt_id == attempts[0].id


@pytest.mark.parametrize("fault", [Fault.DROP_RESPONSE, Fault.STALL, Fault.RESET_AFTER])
def test_stripe_charged_but_the_answer_was_lost(proxied_clinic: CardClinic,
                                                fault_proxy: FaultProxy, fault: Fault) -> None:
    """The request reached Stripe; its answer never came back. Reconciling finds the charge."""
    c = proxied_clinic
    card = c.add_card()
    fault_proxy.arm(fault)
    outcome = charge_whole_balance(c, card)
    assert [e.fault for e in fault_proxy.events if e.path == "/v1/payment_intents"] == [fault]
    _exactly_once(c, outcome)


@pytest.mark.parametrize("fault", [Fault.STALL_BEFORE, Fault.RESET_BEFORE])
def test_stripe_never_got_it(proxied_clinic: CardClinic, fault_proxy: FaultProxy,
                             clock: FixedClock, fault: Fault) -> None:
    """Nothing reached Stripe, but we cannot know that at once: the invoice stays blocked
    until reconciliation is sure, then "not charged, try again", and the retry charges once."""
    c = proxied_clinic
    card = c.add_card()
    charge = c.services.card_payments.charge_card
    fault_proxy.arm(fault)
    first = charge(c.desk, c.patient_id, card.id, ChosenInvoices((c.invoice_id,)))
    assert first.unsettled and "not known yet" in first.message
    assert c.local_payments() == 0 and c.stripe_charges() == []
    with pytest.raises(Conflict, match="not settled yet"):
        charge(c.desk, c.patient_id, card.id, ChosenInvoices((c.invoice_id,)))
    assert [u.attempt_id for u in c.services.card_payments.unsettled_for_patient(
        c.desk, c.patient_id)] == [first.attempt_id]
    # A minute later nothing can still land: Stripe has no trace, so it was not charged.
    clock.advance(timedelta(minutes=2))
    report = c.services.card_payments.reconcile_unknown(c.desk)
    assert report.failed == [first.attempt_id]
    settled = c.services.card_payments.charge_outcome(c.desk, first.attempt_id)
    assert settled.failure_code == "not_charged" and "NOT charged" in settled.message
    retry = charge(c.desk, c.patient_id, card.id, ChosenInvoices((c.invoice_id,)))
    _exactly_once(c, retry)


def test_startup_reconciles_what_could_not_be_checked(proxied_clinic: CardClinic,
                                                      fault_proxy: FaultProxy,
                                                      memory_keyring: object) -> None:
    """The answer is lost AND Stripe cannot be reached to check: the attempt stays unknown
    (nothing recorded as paid) until the next start reconciles it."""
    c = proxied_clinic
    card = c.add_card()
    fault_proxy.arm(Fault.DROP_RESPONSE)
    fault_proxy.arm(Fault.RESET_BEFORE, method="GET", path_prefix="/v1/charges")
    outcome = charge_whole_balance(c, card)
    assert outcome.status is AttemptStatus.UNKNOWN
    assert "could not be reached to check" in outcome.message
    assert c.local_payments() == 0 and len(c.stripe_charges()) == 1
    # "Restart": new services on the same database, no actor yet (before sign-in).
    restarted = Services.build(c.db, gateway_factory=StripeGatewayFactory(api_base=c.stripe_url))
    report = restarted.card_payments.reconcile_unknown()
    assert report.succeeded == [outcome.attempt_id] and report.problems == []
    _exactly_once(c)


def _run_child(mode: str, c: CardClinic, card_id: uuid.UUID,
               now: str) -> subprocess.CompletedProcess[str]:
    args = {"db_url": c.db.url, "stripe_url": c.stripe_url, "account_id": str(c.account_id),
            "patient_id": str(c.patient_id), "card_id": str(card_id), "now": now}
    env = {**os.environ, "FD_TEST_STRIPE_KEY": SECRET_KEY}
    return subprocess.run([sys.executable, "-m", "tests.cards.crash_child", mode,
                           json.dumps(args)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_a_crash_between_stripe_and_our_commit(card_clinic: CardClinic,
                                               clock: FixedClock) -> None:
    """The process dies after Stripe charged and before the payment was written."""
    c = card_clinic
    card = c.add_card()
    now = clock.now().isoformat()
    crashed = _run_child("charge", c, card.id, now)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    [attempt] = c.attempts()
    assert attempt.status is AttemptStatus.PENDING  # committed before the call, never settled
    assert c.local_payments() == 0 and len(c.stripe_charges()) == 1
    started = _run_child("startup", c, card.id, now)
    assert started.returncode == 0, started.stderr
    report = json.loads(started.stdout.strip().splitlines()[-1])
    assert report["succeeded"] == [str(attempt.id)]
    _exactly_once(c)
    payment_intent = stripe_client(c.stripe_url).v1.payment_intents.retrieve(
        c.attempts()[0].stripe_payment_intent_id or "")
    assert payment_intent.metadata["attempt_id"] == str(attempt.id)


def _race(calls: list[tuple[Services, uuid.UUID]], c: CardClinic) -> list[object]:
    """Start the charges at the same moment; each returns an outcome or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, services: Services, card_id: uuid.UUID) -> None:
        barrier.wait()
        try:
            results[i] = services.card_payments.charge_card(
                c.desk, c.patient_id, card_id, ChosenInvoices((c.invoice_id,)))
        except Exception as exc:  # the test looks at what each call got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, s, card)) for i, (s, card) in
               enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _one_won(results: list[object]) -> None:
    won = [r for r in results if isinstance(r, ChargeOutcome) and r.succeeded]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(refused) == len(results) - 1, results


def test_a_double_click_or_two_windows_charge_once(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    results = _race([(c.services, card.id)] * 3, c)
    _one_won(results)
    _exactly_once(c)


@pytest.fixture
def central_clinic(pg_migrated_url: str, clock: FixedClock, stripe_url: str,
                   memory_keyring: object) -> Iterator[CardClinic]:
    """The card clinic on the central PostgreSQL only (where two workstations meet)."""
    database = Database(pg_migrated_url, clock, run_migrations=False)
    truncate_all(database)
    try:
        yield build_card_clinic(database, stripe_url)
    finally:
        database.dispose()


@pytest.mark.pg
def test_two_workstations_charge_once(central_clinic: CardClinic, clock: FixedClock) -> None:
    """Two desks (two Database objects on the same PostgreSQL) charge the same invoice."""
    c = central_clinic
    card = c.add_card()
    other_desk = Database(c.db.url, clock, run_migrations=False)
    try:
        other = Services.build(other_desk,
                               gateway_factory=StripeGatewayFactory(api_base=c.stripe_url))
        results = _race([(c.services, card.id), (other, card.id)], c)
    finally:
        other_desk.dispose()
    _one_won(results)
    _exactly_once(c)


def test_an_intent_still_processing_is_reconciled_by_its_id(proxied_clinic: CardClinic,
                                                            fault_proxy: FaultProxy) -> None:
    """Stripe answered "processing": we keep its PaymentIntent id and later retrieve it."""
    c = proxied_clinic
    card = c.add_card()
    with c.db.reading() as s:
        customer = s.scalars(select(StripeCustomer.stripe_customer_id)).one()
        pm_id = s.get_one(CardOnFile, card.id).stripe_payment_method_id
    # Stripe goes on to charge it; our desk only hears "processing" for now.
    intent = stripe_client(c.stripe_url).v1.payment_intents.create({
        "amount": c.owing(), "currency": "cad", "customer": customer, "payment_method": pm_id,
        "off_session": True, "confirm": True})
    fault_proxy.arm(Fault.RESPOND, body={
        "id": intent.id, "object": "payment_intent", "status": "processing",
        "amount": intent.amount, "currency": "cad", "customer": customer,
        "latest_charge": None, "metadata": {}})
    outcome = charge_whole_balance(c, card)
    assert outcome.status is AttemptStatus.UNKNOWN and c.local_payments() == 0
    assert c.attempts()[0].stripe_payment_intent_id == intent.id
    report = c.services.card_payments.reconcile_unknown(c.desk)
    assert report.succeeded == [outcome.attempt_id]
    _exactly_once(c)
