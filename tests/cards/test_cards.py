"""Cards on file: added through Stripe's form (SetupIntent), listed, flagged expired, removed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import func, select

from desk_app.models import AuditEvent, CardOnFile, CollectedBy
from desk_app.services.clock import FixedClock
from desk_app.services.errors import PermissionDenied, ValidationError
from desk_app.services.registry import Services
from desk_app.services.stripe_gateway import StripeGatewayFactory
from tests.fault_proxy import Fault, FaultProxy
from tests.stripe_fixtures import (
    DECLINED,
    INSUFFICIENT_FUNDS,
    CardClinic,
    stripe_client,
)


def test_add_a_card_through_a_setup_intent(card_clinic: CardClinic) -> None:
    c = card_clinic
    session = c.services.cards.begin_add_card(c.owner, c.patient_id)
    assert session.publishable_key.startswith("pk_test_")
    assert session.client_secret.startswith(session.setup_intent_id)
    assert session.stripe_js_url == f"{c.stripe_url}/js.stripe.com/v3/"
    pm_id = c.stripe_js_confirm(session.setup_intent_id, session.client_secret,
                                "4242424242424242", 4, 2031)
    card = c.services.cards.finish_add_card(c.owner, c.patient_id, session.payment_account_id,
                                            pm_id, setup_intent_id=session.setup_intent_id)
    assert (card.brand_label, card.last4, card.expiry, card.expired) == (
        "Visa", "4242", "04/2031", False)
    assert card.label == "Visa •••• 4242, expires 04/2031"
    assert card.added_by is CollectedBy.STAFF and card.added_by_name == c.owner.name
    assert card.account_label == "Harbour Physio"
    assert [r.id for r in c.services.cards.list_cards(c.desk, c.patient_id)] == [card.id]
    # Attached to the patient's customer at Stripe.
    pm = stripe_client(c.stripe_url).v1.payment_methods.retrieve(pm_id)
    assert pm.customer is not None
    # Saving it again is the same card, once.
    again = c.services.cards.finish_add_card(c.owner, c.patient_id, session.payment_account_id,
                                             pm_id)
    assert again.id == card.id
    with c.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(CardOnFile)) == 1
        details = " ".join(s.scalars(select(AuditEvent.details)).all())
        summaries = " ".join(s.scalars(select(AuditEvent.summary)).all())
    assert "4242" not in details + summaries and "visa" not in (details + summaries).lower()


def test_one_customer_per_patient_and_account(card_clinic: CardClinic) -> None:
    c = card_clinic
    c.add_card()
    c.add_card("5555555555554444")
    customers = stripe_client(c.stripe_url).v1.customers.list({"limit": 100}).data
    assert len(customers) == 1
    assert len(c.services.cards.list_cards(c.owner, c.patient_id)) == 2


@pytest.mark.parametrize("number", [DECLINED, INSUFFICIENT_FUNDS])
def test_a_declined_card_is_not_saved(card_clinic: CardClinic, number: str) -> None:
    c = card_clinic
    session = c.services.cards.begin_add_card(c.owner, c.patient_id)
    client = stripe_client(c.stripe_url)
    pm = client.v1.payment_methods.create({"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    # localstripe declines these when the card form confirms the SetupIntent...
    with pytest.raises(stripe.CardError):
        client.v1.setup_intents.confirm(session.setup_intent_id, {
            "payment_method": pm.id, "client_secret": session.client_secret})
    # ... and if the form handed us the card anyway, finishing refuses it.
    with pytest.raises(ValidationError, match="not set up"):
        c.services.cards.finish_add_card(c.owner, c.patient_id, session.payment_account_id,
                                         str(pm.id), setup_intent_id=session.setup_intent_id)
    with pytest.raises(ValidationError, match="declined"):
        c.services.cards.finish_add_card(c.owner, c.patient_id, session.payment_account_id,
                                         str(pm.id))
    assert c.services.cards.list_cards(c.owner, c.patient_id) == []


def test_wallet_cards_are_not_kept(card_clinic: CardClinic, fault_proxy: FaultProxy) -> None:
    c = card_clinic
    services = Services.build(c.db, gateway_factory=StripeGatewayFactory(api_base=fault_proxy.url))
    session = services.cards.begin_add_card(c.owner, c.patient_id)
    wallet_pm = {"id": "pm_wallet", "object": "payment_method", "type": "card", "customer": None,
                 "card": {"brand": "visa", "last4": "1881", "exp_month": 1, "exp_year": 2031,
                          "wallet": {"type": "apple_pay", "apple_pay": {}}}}
    fault_proxy.arm(Fault.RESPOND, method="GET", path_prefix="/v1/payment_methods/pm_wallet",
                    body=wallet_pm)
    with pytest.raises(ValidationError, match="Apple Pay"):
        services.cards.finish_add_card(c.owner, c.patient_id, session.payment_account_id,
                                       "pm_wallet")
    assert services.cards.list_cards(c.owner, c.patient_id) == []


def test_expired_is_judged_in_the_clinic_time_zone(card_clinic: CardClinic,
                                                   clock: FixedClock) -> None:
    c = card_clinic
    card = c.add_card(exp_month=10, exp_year=2026)
    # 1 Nov 03:00 UTC is still 31 Oct in Toronto: the card is good through October.
    clock.set(datetime(2026, 11, 1, 3, 0, tzinfo=UTC))
    assert not c.services.cards.card(c.owner, card.id).expired
    clock.set(datetime(2026, 11, 1, 5, 0, tzinfo=UTC))
    row = c.services.cards.card(c.owner, card.id)
    assert row.expired and row.label == "Visa •••• 4242, expired 10/2026"


def test_remove_a_card_needs_billing_and_detaches_it_at_stripe(card_clinic: CardClinic) -> None:
    c = card_clinic
    card = c.add_card()
    with pytest.raises(PermissionDenied):
        c.services.cards.remove_card(c.desk, card.id)  # Front Desk without Billing
    c.services.cards.remove_card(c.billing, card.id)
    assert c.services.cards.list_cards(c.owner, c.patient_id) == []
    removed = c.services.cards.list_cards(c.owner, c.patient_id, include_removed=True)
    assert removed[0].removed_by_name == c.billing.name
    with c.db.reading() as s:
        pm_id = s.get_one(CardOnFile, card.id).stripe_payment_method_id
        assert "card.removed" in s.scalars(select(AuditEvent.action)).all()
    assert stripe_client(c.stripe_url).v1.payment_methods.retrieve(pm_id).customer is None


def test_a_card_is_not_removed_when_stripe_cannot_be_reached(
    card_clinic: CardClinic, fault_proxy: FaultProxy
) -> None:
    c = card_clinic
    card = c.add_card()
    services = Services.build(c.db, gateway_factory=StripeGatewayFactory(api_base=fault_proxy.url,
                                                                          timeout=1))
    fault_proxy.arm(Fault.RESET_BEFORE, method="GET", path_prefix="/v1/payment_methods")
    with pytest.raises(Exception, match="not removed"):
        services.cards.remove_card(c.billing, card.id)
    assert [r.id for r in services.cards.list_cards(c.owner, c.patient_id)] == [card.id]
