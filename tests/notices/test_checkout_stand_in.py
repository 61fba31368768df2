"""The Checkout stand-in itself, driven by the real stripe SDK: the shapes and rules of
Stripe's Checkout Session API that our code relies on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import stripe

from desk_app.services.clock import FixedClock
from tests.checkout_stand_in import CheckoutStandIn, decode_form

KEY = "sk_test_frontdesk"


@pytest.fixture
def client(checkout: CheckoutStandIn) -> Iterator[stripe.StripeClient]:
    yield stripe.StripeClient(KEY, base_addresses={"api": checkout.url}, max_network_retries=0)


def _session(client: stripe.StripeClient, clock: FixedClock,
             **extra: object) -> stripe.checkout.Session:
    params: dict[str, object] = {
        "mode": "payment", "success_url": "https://clinic.example/paid",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "cad", "unit_amount": 4500, "product_data": {"name": "Invoice of Nov 3"}}}],
        "expires_at": int((clock.now() + timedelta(hours=2)).timestamp())}
    params.update(extra)
    return client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]


def test_form_decoding_follows_stripes_bracket_notation() -> None:
    assert decode_form("a[b][0][c]=1&a[b][1][c]=2&m[k]=v&x=y") == {
        "a": {"b": [{"c": "1"}, {"c": "2"}]}, "m": {"k": "v"}, "x": "y"}


def test_a_session_has_stripes_shape_and_lists_its_line_items(
        client: stripe.StripeClient, clock: FixedClock) -> None:
    session = _session(client, clock, metadata={"notice_id": "n1"})
    assert session.object == "checkout.session" and session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.amount_total == 4500 and session.currency == "cad"
    assert session.url.startswith("https://checkout.stripe.com/c/pay/")
    assert session.metadata["notice_id"] == "n1"
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.amount_total) for i in items.data] == [("Invoice of Nov 3", 4500)]
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.id == session.id


def test_expires_at_must_be_30_minutes_to_24_hours_ahead(client: stripe.StripeClient,
                                                         clock: FixedClock) -> None:
    for delta in (timedelta(minutes=29), timedelta(hours=24, seconds=1)):
        with pytest.raises(stripe.InvalidRequestError, match="between 30 minutes and 24 hours"):
            _session(client, clock, expires_at=int((clock.now() + delta).timestamp()))


def test_only_an_open_session_can_be_expired(client: stripe.StripeClient,
                                             clock: FixedClock) -> None:
    session = _session(client, clock)
    assert client.v1.checkout.sessions.expire(session.id).status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        client.v1.checkout.sessions.expire(session.id)


def test_a_session_past_its_expiry_reads_expired(client: stripe.StripeClient,
                                                 clock: FixedClock) -> None:
    session = _session(client, clock)
    clock.advance(timedelta(hours=2))
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_paying_makes_a_real_payment_at_localstripe(client: stripe.StripeClient,
                                                    checkout: CheckoutStandIn,
                                                    clock: FixedClock) -> None:
    customer = client.v1.customers.create({"name": "Maddy"})
    session = _session(client, clock, customer=customer.id,
                       payment_intent_data={"setup_future_usage": "off_session",
                                            "metadata": {"notice_id": "n1"}})
    checkout.pay(session.id)
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(str(paid.payment_intent))
    assert intent.status == "succeeded" and intent.amount == 4500
    assert intent.metadata["notice_id"] == "n1"
    cards = client.v1.payment_methods.list({"customer": customer.id, "type": "card"})
    assert len(cards.data) == 1  # saved for future use
    listed = client.v1.checkout.sessions.list({"payment_intent": str(paid.payment_intent)})
    assert [s.id for s in listed.data] == [session.id]


def test_a_wallet_payment_reads_back_as_a_wallet_card(client: stripe.StripeClient,
                                                      checkout: CheckoutStandIn,
                                                      clock: FixedClock) -> None:
    session = _session(client, clock)
    checkout.pay(session.id, wallet="google_pay")
    intent = client.v1.payment_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).payment_intent))
    pm = client.v1.payment_methods.retrieve(str(intent.payment_method))
    assert pm.card is not None and pm.card.wallet is not None
    assert pm.card.wallet.type == "google_pay"


def test_setup_mode_saves_a_card_without_a_payment(client: stripe.StripeClient,
                                                   checkout: CheckoutStandIn,
                                                   clock: FixedClock) -> None:
    customer = client.v1.customers.create({"name": "Maddy"})
    session = client.v1.checkout.sessions.create({
        "mode": "setup", "currency": "cad", "customer": customer.id,
        "success_url": "https://clinic.example/saved"})
    assert session.payment_status == "no_payment_required" and session.setup_intent
    checkout.pay(session.id)
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.status == "complete" and done.payment_intent is None
    intent = client.v1.setup_intents.retrieve(str(done.setup_intent))
    assert intent.status == "succeeded"


def test_the_idempotency_key_returns_the_same_session(client: stripe.StripeClient,
                                                      clock: FixedClock) -> None:
    params = {"mode": "payment", "success_url": "https://clinic.example/paid",
              "line_items": [{"quantity": 1, "price_data": {
                  "currency": "cad", "unit_amount": 100, "product_data": {"name": "x"}}}]}
    first = client.v1.checkout.sessions.create(params, {"idempotency_key": "k1"})  # type: ignore[arg-type]
    second = client.v1.checkout.sessions.create(params, {"idempotency_key": "k1"})  # type: ignore[arg-type]
    assert first.id == second.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create({**params, "mode": "setup"},  # type: ignore[arg-type]
                                           {"idempotency_key": "k1"})
