"""Charging cards on file: whole balance, chosen invoices, an amount; top-ups; failures."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from desk_app.models import (
    AttemptStatus,
    AuditEvent,
    ChargeAttempt,
    CollectedBy,
    Payment,
    PaymentMethod,
)
from desk_app.services.card_payments import ChargeAmount, ChosenInvoices, WholeBalance
from desk_app.services.errors import Conflict, PermissionDenied, ValidationError
from desk_app.services.payment_accounts import PaymentAccountInput
from tests.cards.charging import charge_whole_balance
from tests.fault_proxy import Fault, FaultProxy
from tests.stripe_fixtures import (
    DECLINES_ON_CHARGE,
    THREE_D_SECURE,
    CardClinic,
    stripe_client,
)


def _payment(c: CardClinic) -> Payment:
    with c.db.transaction() as s:  # committed, not rolled back: the row stays readable
        payment = s.scalars(select(Payment)).one()
        s.expunge(payment)
        return payment


def test_charge_the_whole_balance(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    second = c.clinic.visit(c.patient_id, when=datetime(2026, 11, 21, 9, 0))
    owing = c.owing()
    plan = c.services.card_payments.plan(c.desk, c.patient_id, WholeBalance())
    assert plan.amount_cents == owing and plan.to_credit_cents == 0
    assert [i for i, _, _ in plan.invoices] == [c.invoice_id, second]
    outcome = charge_whole_balance(c, card)
    assert outcome.succeeded, outcome.message
    assert outcome.amount_cents == owing and outcome.to_credit_cents == 0
    assert set(outcome.applied) == {c.invoice_id, second}
    assert outcome.message.startswith("Charged $")
    assert c.owing() == 0 and c.credit() == 0
    charges = c.stripe_charges()
    assert len(charges) == 1 and charges[0]["amount"] == owing
    payment = _payment(c)
    assert payment.method is PaymentMethod.CARD
    assert payment.stripe_charge_id == charges[0]["id"]
    assert payment.payment_account_id == c.account_id
    assert payment.reference == "Visa •••• 4242"
    assert payment.collected_by is CollectedBy.STAFF
    assert payment.collected_by_staff_id == c.desk.staff_id
    intent = stripe_client(c.stripe_url).v1.payment_intents.retrieve(
        payment.stripe_payment_intent_id or "")
    assert intent.metadata.to_dict() == {"attempt_id": str(outcome.attempt_id),
                                         "patient_id": str(c.patient_id), "purpose": "charge"}


def test_charge_chosen_invoices(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    second = c.clinic.visit(c.patient_id, when=datetime(2026, 11, 21, 9, 0))
    before = c.owing()
    outcome = c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                                   ChosenInvoices((second,)))
    assert outcome.succeeded and list(outcome.applied) == [second]
    assert c.owing() == before - outcome.amount_cents
    with pytest.raises(Conflict, match="already paid in full"):
        c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                             ChosenInvoices((second,)))
    assert len(c.stripe_charges()) == 1


def test_an_amount_beyond_what_is_owed_becomes_credit(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    owing = c.owing()
    outcome = c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                                   ChargeAmount(owing + 5000))
    assert outcome.succeeded
    assert outcome.applied == {c.invoice_id: owing} and outcome.to_credit_cents == 5000
    assert "$50.00 is now account credit" in outcome.message
    assert c.owing() == 0 and c.credit() == 5000


def test_top_up_goes_to_the_primary_account_on_no_invoice(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    outcome = c.services.card_payments.top_up_credit(c.desk, c.patient_id, 10000, card.id,
                                                     location_id=c.clinic.location_id)
    assert outcome.succeeded and outcome.applied == {} and outcome.to_credit_cents == 10000
    assert c.credit() == 10000 and c.owing() > 0  # credit is not applied by itself
    payment = _payment(c)
    assert payment.payment_account_id == c.account_id
    assert payment.location_id == c.clinic.location_id
    summary = c.services.ledger.billing_summary(c.owner, c.patient_id)
    assert summary.payments[0].collected_by == f"{c.desk.name} at DESK1"
    with c.db.reading() as s:
        assert "card.top_up" in s.scalars(select(AuditEvent.action)).all()


def test_top_up_refuses_a_card_outside_the_primary_account(card_clinic: CardClinic) -> None:
    c = card_clinic
    other = c.services.payment_accounts.add_account(
        c.owner, PaymentAccountInput("Dr Okoye", "pk_test_two", "sk_test_two"))
    card = c.add_card(account_id=other.id)
    with pytest.raises(ValidationError, match="primary payment account"):
        c.services.card_payments.top_up_credit(c.desk, c.patient_id, 10000, card.id)
    assert c.attempts() == [] and c.stripe_charges() == []


def test_permissions(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    practitioner = c.clinic.actor("dokoye")
    with pytest.raises(PermissionDenied):
        c.services.card_payments.charge_card(practitioner, c.patient_id, card.id, WholeBalance())
    with pytest.raises(PermissionDenied):
        c.services.card_payments.top_up_credit(practitioner, c.patient_id, 100, card.id)
    assert c.attempts() == []


def test_the_same_request_twice_charges_once(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    request = uuid.uuid4()
    first = c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                                 ChargeAmount(2500), request_id=request)
    again = c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                                 ChargeAmount(2500), request_id=request)
    assert first.succeeded and again.succeeded and again.attempt_id == first.attempt_id
    assert len(c.stripe_charges()) == 1 and c.local_payments() == 1


def test_a_decline_records_nothing_as_paid(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card(DECLINES_ON_CHARGE)
    owing = c.owing()
    outcome = charge_whole_balance(c, card)
    assert outcome.status is AttemptStatus.FAILED and outcome.failure_code == "card_declined"
    assert "The card was declined" in outcome.message and "Nothing was charged" in outcome.message
    assert c.owing() == owing and c.local_payments() == 0 and c.stripe_charges() == []
    # Nothing unsettled: the desk may try again (or another card) right away.
    again = charge_whole_balance(c, card)
    assert again.status is AttemptStatus.FAILED
    with c.db.reading() as s:
        assert "card.charge_failed" in s.scalars(select(AuditEvent.action)).all()


def test_3d_secure_at_localstripe_needs_the_patient(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card(THREE_D_SECURE)
    outcome = charge_whole_balance(c, card)
    assert outcome.needs_authentication and outcome.failure_code == "authentication_required"
    assert "pay-balance link" in outcome.message
    assert c.local_payments() == 0 and c.stripe_charges() == []
    attempt = c.attempts()[0]
    # The waiting PaymentIntent is cancelled so it can never complete later.
    intent = stripe_client(c.stripe_url).v1.payment_intents.retrieve(
        attempt.stripe_payment_intent_id or "")
    assert intent.status == "canceled"


def _card_error(code: str, decline_code: str | None, **extra: object) -> dict[str, object]:
    return {"error": {"type": "card_error", "code": code, "decline_code": decline_code,
                      "message": "Your card was declined.", **extra}}


@pytest.mark.parametrize(("body", "status", "words"), [
    (_card_error("authentication_required", "authentication_required",
                 payment_intent={"id": "pi_gone", "object": "payment_intent",
                                 "status": "requires_payment_method"}),
     AttemptStatus.REQUIRES_ACTION, "authenticate"),
    (_card_error("card_declined", "insufficient_funds"), AttemptStatus.FAILED,
     "insufficient funds"),
    (_card_error("expired_card", None), AttemptStatus.FAILED, "The card has expired"),
    (_card_error("card_declined", "generic_decline"), AttemptStatus.FAILED, "declined"),
])
def test_real_stripe_shaped_failures(proxied_clinic: CardClinic, fault_proxy: FaultProxy,
                                     body: dict[str, object], status: AttemptStatus,
                                     words: str) -> None:
    """Real Stripe's answers (localstripe gives other ones), through the real SDK."""
    c = proxied_clinic
    card = c.add_card()
    fault_proxy.arm(Fault.RESPOND, status=402, body=body)
    outcome = charge_whole_balance(c, card)
    assert outcome.status is status
    assert words in outcome.message and "Nothing was charged" in outcome.message
    assert c.local_payments() == 0 and c.stripe_charges() == []


def test_an_expired_card_is_refused_before_stripe(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card(exp_month=10, exp_year=2026)
    with pytest.raises(ValidationError, match="expired"):
        charge_whole_balance(c, card)
    assert c.attempts() == []


def test_bad_targets(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    charge = c.services.card_payments.charge_card
    with pytest.raises(ValidationError, match="greater than zero"):
        charge(c.desk, c.patient_id, card.id, ChargeAmount(0))
    with pytest.raises(ValidationError, match="limited"):
        charge(c.desk, c.patient_id, card.id, ChargeAmount(10_000_001))
    other = c.clinic.patient("Sam", "Other")
    with pytest.raises(ValidationError, match="another patient"):
        charge(c.desk, other, c.add_card(patient_id=other).id, ChosenInvoices((c.invoice_id,)))
    charge(c.desk, c.patient_id, card.id, WholeBalance())
    with pytest.raises(ValidationError, match="owes nothing"):
        charge(c.desk, c.patient_id, card.id, WholeBalance())


def test_unreachable_stripe_charges_nothing(proxied_clinic: CardClinic,
                                            fault_proxy: FaultProxy) -> None:
    c = proxied_clinic
    card = c.add_card()
    fault_proxy.close()  # nothing listens there any more: connection refused
    outcome = charge_whole_balance(c, card)
    assert outcome.status is AttemptStatus.FAILED and outcome.failure_code == "not_sent"
    assert "NOT charged" in outcome.message and "try again" in outcome.message
    assert c.local_payments() == 0 and c.stripe_charges() == []


def test_every_money_action_is_audited_without_card_data(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    outcome = charge_whole_balance(c, card)
    with c.db.transaction() as s:
        events = {e.action: e for e in s.scalars(select(AuditEvent))}
        attempt = s.get_one(ChargeAttempt, outcome.attempt_id)
        s.expunge_all()
    started, charged = events["card.charge_started"], events["card.charged"]
    assert started.staff_id == c.desk.staff_id and started.workstation == "DESK1"
    assert charged.patient_id == c.patient_id and charged.entity_id == outcome.payment_id
    assert json.loads(charged.details)["collected_by"] == f"{c.desk.name} at DESK1"
    for event in events.values():
        assert "4242" not in event.details + event.summary
    assert attempt.status is AttemptStatus.SUCCEEDED and attempt.settled_at is not None
