"""The Stripe gateway: how stripe SDK errors map to what the desk can conclude, over real HTTP."""

from __future__ import annotations

import socket

import pytest
import requests
import stripe
import urllib3.exceptions

from desk_app.services.stripe_gateway import (
    GatewayError,
    GatewayErrorKind,
    StripeGateway,
    account_mode_of_key,
    map_stripe_error,
)
from tests.fault_proxy import Fault, FaultProxy
from tests.stripe_fixtures import SECRET_KEY, stripe_client


def _card_error(code: str, decline_code: str | None = None, **extra: object) -> stripe.CardError:
    """A CardError shaped as real Stripe sends it (localstripe never sends these)."""
    body = {"error": {"type": "card_error", "code": code, "decline_code": decline_code,
                      "message": f"Your card was declined ({decline_code or code}).", **extra}}
    return stripe.CardError(body["error"]["message"], None, code, http_status=402,
                            json_body=body)


def test_real_stripe_authentication_required_is_its_own_kind() -> None:
    # Real Stripe: an off-session charge that needs 3-D Secure raises CardError
    # authentication_required with the PaymentIntent in the error.
    exc = _card_error("authentication_required", "authentication_required",
                      payment_intent={"id": "pi_123", "object": "payment_intent",
                                      "status": "requires_payment_method"})
    mapped = map_stripe_error(exc)
    assert mapped.kind is GatewayErrorKind.AUTHENTICATION_REQUIRED
    assert mapped.payment_intent_id == "pi_123"
    assert mapped.kind.nothing_happened


@pytest.mark.parametrize(("code", "decline_code"), [
    ("card_declined", "generic_decline"),
    ("card_declined", "insufficient_funds"),
    ("expired_card", None),
])
def test_declines_keep_their_codes(code: str, decline_code: str | None) -> None:
    mapped = map_stripe_error(_card_error(code, decline_code, charge="ch_1"))
    assert mapped.kind is GatewayErrorKind.DECLINED
    assert mapped.code == code
    assert mapped.decline_code == (decline_code or "")
    assert mapped.charge_id == "ch_1"


def _connection_error(cause: BaseException) -> stripe.APIConnectionError:
    try:
        try:
            raise requests.exceptions.ConnectionError(cause)
        except requests.exceptions.ConnectionError as inner:
            raise stripe.APIConnectionError("Unexpected error communicating with Stripe.",
                                            should_retry=True) from inner
    except stripe.APIConnectionError as exc:
        return exc


def test_a_connection_that_never_opened_means_nothing_was_sent() -> None:
    refused = urllib3.exceptions.MaxRetryError(
        None, "/v1/payment_intents",  # type: ignore[arg-type]
        urllib3.exceptions.NewConnectionError(None, "Connection refused"),  # type: ignore[arg-type]
    )
    assert map_stripe_error(_connection_error(refused)).kind is GatewayErrorKind.NOT_SENT


def test_a_dropped_connection_after_sending_is_an_unknown_outcome() -> None:
    aborted = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
    mapped = map_stripe_error(_connection_error(aborted))
    assert mapped.kind is GatewayErrorKind.UNKNOWN_OUTCOME
    assert not mapped.kind.nothing_happened


@pytest.mark.parametrize(("exc", "kind"), [
    (stripe.APIError("boom", http_status=500), GatewayErrorKind.UNKNOWN_OUTCOME),
    (stripe.AuthenticationError("bad key", http_status=401), GatewayErrorKind.BAD_KEY),
    (stripe.RateLimitError("slow down", http_status=429), GatewayErrorKind.RATE_LIMITED),
    (stripe.InvalidRequestError("No such payment_intent", None, http_status=404),
     GatewayErrorKind.NOT_FOUND),
    (stripe.InvalidRequestError("Bad", "amount", http_status=400), GatewayErrorKind.INVALID),
])
def test_other_errors(exc: stripe.StripeError, kind: GatewayErrorKind) -> None:
    assert map_stripe_error(exc).kind is kind


def test_key_modes() -> None:
    assert account_mode_of_key("sk_test_abc") == "test"
    assert account_mode_of_key("sk_live_abc") == "live"
    assert account_mode_of_key("rk_live_abc") == "live"
    assert account_mode_of_key("pk_test_abc") is None
    assert account_mode_of_key("sk_test_") is None


def test_the_key_never_shows_in_a_repr() -> None:
    gateway = StripeGateway("sk_test_very_secret", api_base="http://127.0.0.1:9")
    assert "very_secret" not in repr(gateway)


# ----- over real HTTP ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_stripe_is_not_sent() -> None:
    gateway = StripeGateway(SECRET_KEY, api_base=f"http://127.0.0.1:{_free_port()}", timeout=2)
    with pytest.raises(GatewayError) as caught:
        gateway.check_key()
    assert caught.value.kind is GatewayErrorKind.NOT_SENT


def test_localstripe_round_trip(stripe_url: str) -> None:
    gateway = StripeGateway(SECRET_KEY, api_base=stripe_url)
    gateway.check_key()
    customer = gateway.create_customer("Maddy Smith", {"patient_id": "p1"}, "fd-cus-1")
    client = stripe_client(stripe_url)
    pm = client.v1.payment_methods.create({"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    card = gateway.attach_payment_method(str(pm.id), customer)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2030)
    assert card.customer_id == customer and card.wallet is None
    intent = gateway.create_payment_intent(
        amount=1234, currency="CAD", customer_id=customer, payment_method_id=card.payment_method_id,
        idempotency_key="fd-ch-1", metadata={"attempt_id": "a1"})
    assert intent.status == "succeeded" and intent.charge_id
    charges = list(gateway.list_charges(customer))
    assert [(c.id, c.metadata.get("attempt_id"), c.payment_intent_id) for c in charges] == [
        (intent.charge_id, "a1", intent.id)]
    refund = gateway.create_refund(charge_id=intent.charge_id or "", amount=234,
                                   idempotency_key="fd-re-1", metadata={"refund_attempt_id": "r1"})
    assert refund.status == "succeeded"
    refunds = gateway.list_refunds(refund.charge_id or "")
    assert [r.metadata.get("refund_attempt_id") for r in refunds] == ["r1"]
    assert [c.payment_method_id for c in gateway.list_cards(customer)] == [pm.id]
    gateway.detach_payment_method(str(pm.id))
    assert gateway.list_cards(customer) == []


def test_a_bad_key_at_localstripe(stripe_url: str) -> None:
    with pytest.raises(GatewayError) as caught:
        StripeGateway("sk_ab", api_base=stripe_url).check_key()
    assert caught.value.kind is GatewayErrorKind.BAD_KEY


@pytest.mark.parametrize(("fault", "kind"), [
    (Fault.RESET_BEFORE, GatewayErrorKind.UNKNOWN_OUTCOME),
    (Fault.DROP_RESPONSE, GatewayErrorKind.UNKNOWN_OUTCOME),
    (Fault.STALL, GatewayErrorKind.UNKNOWN_OUTCOME),
])
def test_faults_after_sending_are_unknown_outcomes(stripe_url: str, fault_proxy: FaultProxy,
                                                   fault: Fault, kind: GatewayErrorKind) -> None:
    gateway = StripeGateway(SECRET_KEY, api_base=fault_proxy.url, timeout=0.5)
    fault_proxy.arm(fault, method="POST", path_prefix="/v1/customers")
    with pytest.raises(GatewayError) as caught:
        gateway.create_customer("A", {}, "k")
    assert caught.value.kind is kind
