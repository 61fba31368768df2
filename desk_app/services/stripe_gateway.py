"""A thin interface over Stripe, and its implementation with the official ``stripe`` SDK.

Everything the services need from Stripe is here, as plain dataclasses; no other module
imports ``stripe``. Every call has a timeout (20 s by default) and the SDK never retries on
its own (``max_network_retries=0``): what happens after an ambiguous failure is decided by the
exactly-once protocol in ``card_payments``, not by a hidden retry.

Errors become one :class:`GatewayError` with a :class:`GatewayErrorKind` that says what the
desk can conclude:

- ``DECLINED``: the card was refused (``code`` / ``decline_code`` say why); nothing charged.
- ``AUTHENTICATION_REQUIRED``: the bank wants the patient to authenticate (3-D Secure).
- ``NOT_SENT``: Stripe could not be reached at all (no connection was made): nothing charged.
- ``UNKNOWN_OUTCOME``: the request may have reached Stripe but no answer came back (timeout,
  reset, 5xx). Whether money moved is unknown until reconciled.
- ``RATE_LIMITED``: Stripe refused to process the request now; nothing happened.
- ``BAD_KEY``: the account's key is wrong or lacks permission.
- ``NOT_FOUND`` / ``INVALID``: Stripe refused the request as it stands.

Secret keys never appear in an error, a log line or a repr.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import stripe

# The stripe SDK (with requests, urllib3 and aiohttp: about 0.2 s) is imported by the code that
# calls Stripe, not with this module, which every start of the app imports.

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 20.0
#: How many of a customer's charges reconciliation looks through, newest first at Stripe.
MAX_CHARGES_SCANNED = 1000


class GatewayErrorKind(StrEnum):
    DECLINED = "declined"
    AUTHENTICATION_REQUIRED = "authentication_required"
    NOT_SENT = "not_sent"
    UNKNOWN_OUTCOME = "unknown_outcome"
    RATE_LIMITED = "rate_limited"
    BAD_KEY = "bad_key"
    NOT_FOUND = "not_found"
    INVALID = "invalid"

    @property
    def nothing_happened(self) -> bool:
        """True when Stripe certainly did not act on the request."""
        return self is not GatewayErrorKind.UNKNOWN_OUTCOME


class GatewayError(Exception):
    def __init__(
        self,
        kind: GatewayErrorKind,
        message: str,
        *,
        code: str = "",
        decline_code: str = "",
        payment_intent_id: str | None = None,
        charge_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id
        self.charge_id = charge_id

    def __repr__(self) -> str:
        return f"GatewayError({self.kind.value!r}, {self.message!r}, code={self.code!r})"


@dataclass(frozen=True, slots=True)
class CardDetails:
    """What Stripe tells us about a saved card: never its number."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer_id: str | None
    # "apple_pay", "google_pay", ... when the card came from a wallet (never saved).
    wallet: str | None = None


@dataclass(frozen=True, slots=True)
class SetupIntentInfo:
    id: str
    client_secret: str
    status: str
    customer_id: str | None
    payment_method_id: str | None


@dataclass(frozen=True, slots=True)
class PaymentIntentInfo:
    id: str
    status: str
    amount: int
    currency: str
    customer_id: str | None
    charge_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    error_code: str = ""
    decline_code: str = ""
    error_message: str = ""
    payment_method_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChargeInfo:
    id: str
    status: str  # succeeded | pending | failed
    amount: int
    amount_refunded: int
    payment_intent_id: str | None
    # The charge's metadata with its PaymentIntent's metadata laid over it.
    metadata: Mapping[str, str] = field(default_factory=dict)
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True, slots=True)
class RefundInfo:
    id: str
    status: str  # succeeded | pending | requires_action | failed | canceled
    amount: int
    charge_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    """One line of what a Checkout page asks for (no clinical detail: "Invoice of Nov 20")."""

    name: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class CustomAmount:
    """The patient chooses how much to pay, between ``minimum`` and ``maximum`` (cents)."""

    name: str
    minimum_cents: int
    maximum_cents: int
    preset_cents: int | None = None


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A Checkout Session in payment mode for one patient's Stripe customer."""

    customer_id: str
    currency: str
    lines: tuple[CheckoutLine, ...]
    custom_amount: CustomAmount | None
    expires_at: int  # unix seconds: 30 minutes to 24 hours ahead at Stripe
    success_url: str
    metadata: Mapping[str, str]
    idempotency_key: str
    save_card: bool = True  # payment_intent_data.setup_future_usage = off_session
    receipt_email: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutSessionInfo:
    id: str
    url: str
    mode: str  # payment | setup
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int
    currency: str
    customer_id: str | None
    payment_intent_id: str | None
    setup_intent_id: str | None
    expires_at: int
    metadata: Mapping[str, str] = field(default_factory=dict)


class PaymentGateway(Protocol):
    """What the services ask of Stripe, for one payment account."""

    #: The API base the gateway talks to (None: Stripe itself); Stripe.js is served beside it
    #: by localstripe in tests.
    api_base: str | None

    def check_key(self) -> None: ...

    def create_customer(
        self, name: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> str: ...

    def create_setup_intent(
        self, customer_id: str, metadata: Mapping[str, str]
    ) -> SetupIntentInfo: ...

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo: ...

    def retrieve_payment_method(self, payment_method_id: str) -> CardDetails: ...

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> CardDetails: ...

    def detach_payment_method(self, payment_method_id: str) -> None: ...

    def list_cards(self, customer_id: str) -> list[CardDetails]: ...

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> PaymentIntentInfo: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo: ...

    def cancel_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo: ...

    def list_charges(self, customer_id: str) -> Iterator[ChargeInfo]: ...

    def create_refund(
        self,
        *,
        charge_id: str,
        amount: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> RefundInfo: ...

    def list_refunds(self, charge_id: str) -> list[RefundInfo]: ...

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSessionInfo: ...

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo: ...

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo: ...


#: Builds the gateway of one payment account from its secret key.
GatewayFactory = Callable[[str], PaymentGateway]


def account_mode_of_key(secret_key: str) -> str | None:
    """'test' or 'live' from a Stripe secret (or restricted) key's prefix; None if not a key."""
    for prefix, mode in (("sk_test_", "test"), ("sk_live_", "live"),
                         ("rk_test_", "test"), ("rk_live_", "live")):
        if secret_key.startswith(prefix) and len(secret_key) > len(prefix):
            return mode
    return None


# ----- the stripe SDK implementation -------------------------------------------------------


class StripeGateway:
    """PaymentGateway over ``stripe.StripeClient`` (real HTTP, to Stripe or to localstripe)."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        import stripe

        self.api_base = api_base
        self.timeout = timeout
        bases: dict[str, str] = {"api": api_base} if api_base else {}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=bases,  # type: ignore[arg-type]
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def __repr__(self) -> str:  # never the key
        return f"StripeGateway(api_base={self.api_base!r}, timeout={self.timeout})"

    def check_key(self) -> None:
        with _mapped_errors():
            self._client.v1.balance.retrieve()

    def create_customer(
        self, name: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> str:
        with _mapped_errors():
            customer = self._client.v1.customers.create(
                {"name": name, "metadata": dict(metadata)},
                {"idempotency_key": idempotency_key},
            )
        return str(customer.id)

    def create_setup_intent(
        self, customer_id: str, metadata: Mapping[str, str]
    ) -> SetupIntentInfo:
        with _mapped_errors():
            si = self._client.v1.setup_intents.create(
                {"customer": customer_id, "usage": "off_session", "metadata": dict(metadata)}
            )
        return _setup_intent(si.to_dict())

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        with _mapped_errors():
            si = self._client.v1.setup_intents.retrieve(setup_intent_id)
        return _setup_intent(si.to_dict())

    def retrieve_payment_method(self, payment_method_id: str) -> CardDetails:
        with _mapped_errors():
            pm = self._client.v1.payment_methods.retrieve(payment_method_id)
        return _card(pm.to_dict())

    def attach_payment_method(self, payment_method_id: str, customer_id: str) -> CardDetails:
        with _mapped_errors():
            pm = self._client.v1.payment_methods.attach(
                payment_method_id, {"customer": customer_id}
            )
        return _card(pm.to_dict())

    def detach_payment_method(self, payment_method_id: str) -> None:
        with _mapped_errors():
            self._client.v1.payment_methods.detach(payment_method_id)

    def list_cards(self, customer_id: str) -> list[CardDetails]:
        with _mapped_errors():
            page = self._client.v1.payment_methods.list(
                {"customer": customer_id, "type": "card", "limit": 100}
            )
            return [_card(pm.to_dict()) for pm in page.auto_paging_iter()]

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> PaymentIntentInfo:
        with _mapped_errors():
            pi = self._client.v1.payment_intents.create(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "customer": customer_id,
                    "payment_method": payment_method_id,
                    "off_session": True,
                    "confirm": True,
                    "metadata": dict(metadata),
                },
                {"idempotency_key": idempotency_key},
            )
        return _payment_intent(pi.to_dict())

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        with _mapped_errors():
            pi = self._client.v1.payment_intents.retrieve(payment_intent_id)
        return _payment_intent(pi.to_dict())

    def cancel_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        with _mapped_errors():
            pi = self._client.v1.payment_intents.cancel(payment_intent_id)
        return _payment_intent(pi.to_dict())

    def list_charges(self, customer_id: str) -> Iterator[ChargeInfo]:
        """The customer's charges (newest first at Stripe), each with its intent's metadata."""
        with _mapped_errors():
            page = self._client.v1.charges.list(
                {"customer": customer_id, "limit": 100, "expand": ["data.payment_intent"]}
            )
            charges = page.auto_paging_iter()
            for n, charge in enumerate(charges):
                if n >= MAX_CHARGES_SCANNED:
                    return
                yield _charge(charge.to_dict())

    def create_refund(
        self,
        *,
        charge_id: str,
        amount: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> RefundInfo:
        with _mapped_errors():
            refund = self._client.v1.refunds.create(
                {"charge": charge_id, "amount": amount, "metadata": dict(metadata)},
                {"idempotency_key": idempotency_key},
            )
        return _refund(refund.to_dict())

    def list_refunds(self, charge_id: str) -> list[RefundInfo]:
        with _mapped_errors():
            page = self._client.v1.refunds.list({"charge": charge_id, "limit": 100})
            return [_refund(r.to_dict()) for r in page.auto_paging_iter()]


    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSessionInfo:
        line_items: list[dict[str, Any]] = [
            {"quantity": 1, "price_data": {
                "currency": request.currency.lower(), "unit_amount": line.amount_cents,
                "product_data": {"name": line.name}}}
            for line in request.lines
        ]
        with _mapped_errors():
            if request.custom_amount is not None:
                # "Pay what you want": only a Price (not inline price_data) can carry it.
                custom = request.custom_amount
                limits: dict[str, Any] = {"enabled": True, "minimum": custom.minimum_cents,
                                          "maximum": custom.maximum_cents}
                if custom.preset_cents is not None:
                    limits["preset"] = custom.preset_cents
                price_params: Any = {
                    "currency": request.currency.lower(), "custom_unit_amount": limits,
                    "product_data": {"name": custom.name}}
                price = self._client.v1.prices.create(price_params)
                line_items = [{"price": str(price.id), "quantity": 1}]
            intent_data: dict[str, Any] = {"metadata": dict(request.metadata)}
            if request.save_card:
                intent_data["setup_future_usage"] = "off_session"
            if request.receipt_email:
                intent_data["receipt_email"] = request.receipt_email
            params: Any = {
                "mode": "payment",
                "customer": request.customer_id,
                "line_items": line_items,
                "payment_method_types": ["card"],  # Apple Pay and Google Pay come as cards
                "payment_intent_data": intent_data,
                "metadata": dict(request.metadata),
                "expires_at": request.expires_at,
                "success_url": request.success_url,
            }
            session = self._client.v1.checkout.sessions.create(
                params, {"idempotency_key": request.idempotency_key})
        return _checkout_session(session.to_dict())

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        with _mapped_errors():
            session = self._client.v1.checkout.sessions.retrieve(session_id)
        return _checkout_session(session.to_dict())

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        with _mapped_errors():
            session = self._client.v1.checkout.sessions.expire(session_id)
        return _checkout_session(session.to_dict())


@dataclass(frozen=True)
class StripeGatewayFactory:
    """Makes a StripeGateway per account key; tests point ``api_base`` at localstripe."""

    api_base: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def __call__(self, secret_key: str) -> PaymentGateway:
        return StripeGateway(secret_key, api_base=self.api_base, timeout=self.timeout)


# ----- errors ----------------------------------------------------------------------------


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Turn any stripe error raised inside into a GatewayError."""
    import stripe

    try:
        yield
    except stripe.StripeError as exc:
        raise map_stripe_error(exc) from None


def map_stripe_error(exc: stripe.StripeError) -> GatewayError:
    """What a stripe SDK error means for the desk (see the module docstring)."""
    import stripe

    error = exc.error
    code = str(getattr(error, "code", None) or exc.code or "")
    decline_code = str(getattr(error, "decline_code", None) or "")
    message = str(getattr(error, "message", None) or exc.user_message or "") or str(
        type(exc).__name__
    )
    pi_id = _id_of(getattr(error, "payment_intent", None))
    charge_id = _id_of(getattr(error, "charge", None))
    if isinstance(exc, stripe.CardError):
        if "authentication_required" in (code, decline_code):
            kind = GatewayErrorKind.AUTHENTICATION_REQUIRED
        else:
            kind = GatewayErrorKind.DECLINED
        return GatewayError(kind, message, code=code, decline_code=decline_code,
                            payment_intent_id=pi_id, charge_id=charge_id)
    if isinstance(exc, stripe.APIConnectionError):
        kind = (GatewayErrorKind.NOT_SENT if _never_sent(exc)
                else GatewayErrorKind.UNKNOWN_OUTCOME)
        return GatewayError(kind, "Stripe did not answer.", code="network")
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayError(GatewayErrorKind.BAD_KEY, message, code=code)
    if isinstance(exc, stripe.RateLimitError):
        return GatewayError(GatewayErrorKind.RATE_LIMITED, message, code=code)
    if isinstance(exc, stripe.InvalidRequestError):
        kind = (GatewayErrorKind.NOT_FOUND if exc.http_status == 404
                else GatewayErrorKind.INVALID)
        return GatewayError(kind, message, code=code, payment_intent_id=pi_id,
                            charge_id=charge_id)
    if isinstance(exc, stripe.IdempotencyError):
        return GatewayError(GatewayErrorKind.INVALID, message, code=code)
    # stripe.APIError (5xx) and anything else: Stripe may have acted on it.
    return GatewayError(GatewayErrorKind.UNKNOWN_OUTCOME, "Stripe had an error.", code=code)


def _never_sent(exc: BaseException) -> bool:
    """True when the connection itself failed (refused, DNS, connect timeout): no request left.

    A reset, a dropped response or a read timeout after the request went out is NOT this:
    Stripe may have acted on it.
    """
    import urllib3.exceptions

    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.ConnectTimeoutError):
            return True  # NewConnectionError and NameResolutionError are subclasses
        if isinstance(current, urllib3.exceptions.MaxRetryError):
            return isinstance(current.reason, urllib3.exceptions.ConnectTimeoutError)
        for nested in (current.__cause__, current.__context__, *current.args):
            if isinstance(nested, BaseException):
                stack.append(nested)
    return False


# ----- converting Stripe objects -------------------------------------------------------------


def _id_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    ident = value.get("id") if isinstance(value, dict) else getattr(value, "id", None)
    return str(ident) if ident else None


def _metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _card(data: dict[str, Any]) -> CardDetails:
    card = data.get("card") or {}
    wallet = card.get("wallet") or None
    return CardDetails(
        payment_method_id=str(data["id"]),
        brand=str(card.get("brand") or "card"),
        last4=str(card.get("last4") or ""),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        customer_id=_id_of(data.get("customer")),
        wallet=str(wallet.get("type") or "wallet") if isinstance(wallet, dict) else None,
    )


def _setup_intent(data: dict[str, Any]) -> SetupIntentInfo:
    return SetupIntentInfo(
        id=str(data["id"]),
        client_secret=str(data.get("client_secret") or ""),
        status=str(data.get("status") or ""),
        customer_id=_id_of(data.get("customer")),
        payment_method_id=_id_of(data.get("payment_method")),
    )


def _payment_intent(data: dict[str, Any]) -> PaymentIntentInfo:
    error = data.get("last_payment_error") or {}
    return PaymentIntentInfo(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        customer_id=_id_of(data.get("customer")),
        charge_id=_id_of(data.get("latest_charge")),
        metadata=_metadata(data.get("metadata")),
        error_code=str(error.get("code") or ""),
        decline_code=str(error.get("decline_code") or ""),
        error_message=str(error.get("message") or ""),
        payment_method_id=_id_of(data.get("payment_method")),
    )


def _checkout_session(data: dict[str, Any]) -> CheckoutSessionInfo:
    return CheckoutSessionInfo(
        id=str(data["id"]),
        url=str(data.get("url") or ""),
        mode=str(data.get("mode") or ""),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        amount_total=int(data.get("amount_total") or 0),
        currency=str(data.get("currency") or ""),
        customer_id=_id_of(data.get("customer")),
        payment_intent_id=_id_of(data.get("payment_intent")),
        setup_intent_id=_id_of(data.get("setup_intent")),
        expires_at=int(data.get("expires_at") or 0),
        metadata=_metadata(data.get("metadata")),
    )


def _charge(data: dict[str, Any]) -> ChargeInfo:
    intent = data.get("payment_intent")
    metadata = _metadata(data.get("metadata"))
    if isinstance(intent, dict):
        metadata.update(_metadata(intent.get("metadata")))
    return ChargeInfo(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        payment_intent_id=_id_of(intent),
        metadata=metadata,
        failure_code=str(data.get("failure_code") or ""),
        failure_message=str(data.get("failure_message") or ""),
    )


def _refund(data: dict[str, Any]) -> RefundInfo:
    return RefundInfo(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount=int(data.get("amount") or 0),
        charge_id=_id_of(data.get("charge")),
        metadata=_metadata(data.get("metadata")),
    )
