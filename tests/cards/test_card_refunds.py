"""Refunding card payments: to the card (through Stripe, exactly once) or to account credit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from desk_app.models import Allocation, AttemptStatus, AuditEvent, PaymentMethod, Refund
from desk_app.services.card_payments import ChargeAmount, WholeBalance
from desk_app.services.clock import FixedClock
from desk_app.services.errors import Conflict, PermissionDenied, ValidationError
from tests.fault_proxy import Fault, FaultProxy
from tests.stripe_fixtures import CardClinic, stripe_client


def _stripe_refunds(c: CardClinic) -> list[dict[str, object]]:
    return [r.to_dict() for r in
            stripe_client(c.stripe_url).v1.refunds.list({"limit": 100}).auto_paging_iter()]


def _paid(c: CardClinic, target: object = None) -> tuple[uuid.UUID, int]:
    card = c.add_card()
    outcome = c.services.card_payments.charge_card(c.desk, c.patient_id, card.id,
                                                   target or WholeBalance())  # type: ignore[arg-type]
    assert outcome.succeeded and outcome.payment_id
    return outcome.payment_id, outcome.amount_cents


def test_a_full_refund_to_the_card_unapplies_the_invoice(card_clinic: CardClinic) -> None:
    c = card_clinic
    payment_id, amount = _paid(c)
    outcome = c.services.card_payments.refund_card_payment(c.billing, payment_id, amount,
                                                           reason="Cancelled visit")
    assert outcome.succeeded, outcome.message
    assert outcome.unapplied == {c.invoice_id: amount}
    assert c.owing() == amount and c.credit() == 0
    [stripe_refund] = _stripe_refunds(c)
    assert stripe_refund["amount"] == amount
    assert stripe_refund["metadata"] == {"refund_attempt_id": str(outcome.attempt_id),
                                         "payment_id": str(payment_id),
                                         "patient_id": str(c.patient_id)}
    with c.db.reading() as s:
        refund = s.scalars(select(Refund)).one()
        assert refund.stripe_refund_id == stripe_refund["id"]
        assert refund.method is PaymentMethod.CARD and refund.reason == "Cancelled visit"
        assert "card.refunded" in s.scalars(select(AuditEvent.action)).all()
    with pytest.raises(ValidationError, match=r"Only \$0.00 of this payment can still be"):
        c.services.card_payments.refund_card_payment(c.billing, payment_id, 1)


def test_a_partial_refund_comes_out_of_credit_first(card_clinic: CardClinic) -> None:
    c = card_clinic
    owing = c.owing()
    payment_id, amount = _paid(c, ChargeAmount(owing + 3000))
    # $30.00 of the payment is credit: a $20.00 refund leaves the invoice paid.
    first = c.services.card_payments.refund_card_payment(c.billing, payment_id, 2000)
    assert first.succeeded and first.unapplied == {}
    assert c.owing() == 0 and c.credit() == 1000
    # $15.00 more: $10.00 of credit, then $5.00 taken off the invoice.
    second = c.services.card_payments.refund_card_payment(c.billing, payment_id, 1500)
    assert second.succeeded and second.unapplied == {c.invoice_id: 500}
    assert c.owing() == 500 and c.credit() == 0
    with pytest.raises(ValidationError, match="can still be refunded"):
        c.services.card_payments.refund_card_payment(c.billing, payment_id, amount)
    assert sum(int(r["amount"]) for r in _stripe_refunds(c)) == 3500  # type: ignore[call-overload]


def test_newest_application_is_unapplied_first(card_clinic: CardClinic,
                                              clock: FixedClock) -> None:
    c = card_clinic
    second = c.clinic.visit(c.patient_id, when=datetime(2026, 11, 21, 9, 0))
    owing_first = c.owing() // 2
    payment_id, amount = _paid(c, ChargeAmount(owing_first))  # pays the older invoice only
    # Later, $10.00 of it is moved to the newer invoice.
    clock.advance(timedelta(minutes=5))
    c.services.ledger.unapply(c.billing, payment_id, c.invoice_id, 1000)
    c.services.ledger.apply_payment(c.billing, payment_id, second, 1000)
    outcome = c.services.card_payments.refund_card_payment(c.billing, payment_id, 1500)
    # 1000 comes off the newer invoice first, then 500 off the older one.
    assert outcome.unapplied == {second: 1000, c.invoice_id: 500}
    assert amount == owing_first


def test_refund_to_credit_moves_money_off_invoices(card_clinic: CardClinic) -> None:
    c = card_clinic
    payment_id, amount = _paid(c)
    outcome = c.services.card_payments.refund_card_payment(c.billing, payment_id, 2500,
                                                           to="credit")
    assert outcome.succeeded and outcome.to == "credit"
    assert outcome.unapplied == {c.invoice_id: 2500}
    assert c.credit() == 2500 and c.owing() == 2500
    assert _stripe_refunds(c) == []
    with c.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 0
    with pytest.raises(ValidationError, match="already account credit"):
        c.services.card_payments.refund_card_payment(c.billing, payment_id, amount, to="credit")


def test_refunds_need_the_refund_permission(card_clinic: CardClinic) -> None:
    c = card_clinic
    payment_id, amount = _paid(c)
    with pytest.raises(PermissionDenied):
        c.services.card_payments.refund_card_payment(c.desk, payment_id, amount)
    with pytest.raises(PermissionDenied):
        c.services.card_payments.refund_card_payment(c.desk, payment_id, amount, to="credit")


def test_cash_is_not_refunded_to_a_card(card_clinic: CardClinic) -> None:
    c = card_clinic
    cash = c.services.ledger.record_payment(c.desk, c.patient_id, PaymentMethod.CASH, 1000)
    with pytest.raises(ValidationError, match="Only card payments"):
        c.services.card_payments.refund_card_payment(c.billing, cash.payment_id, 1000)


@pytest.mark.slow
@pytest.mark.parametrize("fault", [Fault.DROP_RESPONSE, Fault.RESET_BEFORE])
def test_a_refund_with_no_answer_is_reconciled(proxied_clinic: CardClinic,
                                               fault_proxy: FaultProxy, clock: FixedClock,
                                               fault: Fault) -> None:
    c = proxied_clinic
    payment_id, amount = _paid(c)
    fault_proxy.arm(fault, path_prefix="/v1/refunds")
    outcome = c.services.card_payments.refund_card_payment(c.billing, payment_id, amount)
    if fault is Fault.DROP_RESPONSE:
        # Stripe refunded: the reconciliation found it by its metadata.
        assert outcome.succeeded
    else:
        assert outcome.unsettled and "not known yet" in outcome.message
        with pytest.raises(Conflict, match="still being checked"):
            c.services.card_payments.refund_card_payment(c.billing, payment_id, amount)
        clock.advance(timedelta(minutes=2))
        report = c.services.card_payments.reconcile_unknown(c.billing)
        assert report.failed == [outcome.attempt_id]
        outcome = c.services.card_payments.refund_card_payment(c.billing, payment_id, amount)
        assert outcome.succeeded
    assert len(_stripe_refunds(c)) == 1
    with c.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 1
        assert s.scalar(select(func.sum(Allocation.amount_cents))) == 0
    assert outcome.status is AttemptStatus.SUCCEEDED
