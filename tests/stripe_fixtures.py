"""Stripe test fixtures: localstripe, an in-memory OS keyring, a clinic with a payment account.

- ``localstripe_server`` (session): localstripe in a subprocess on 127.0.0.1 (tests/stripe_server).
  It cannot fail to start for lack of anything on this image; if it does, the tests fail.
- ``stripe_url``: the server's base URL, with its state cleared for this test.
- ``memory_keyring``: the ``keyring`` package pointed at an in-memory backend for this test, so
  our real keyring wrapper runs without an OS keyring.
- ``card_clinic``: the ``db`` fixture's clinic (SQLite and PostgreSQL) with a primary test-mode
  payment account at localstripe, a patient with an open invoice, and helpers to add cards the
  way Stripe.js would.

Card numbers appear only here and in tests: the test plays Stripe.js, creating PaymentMethods
at localstripe from Stripe's published test numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import keyring
import pytest
import stripe
from sqlalchemy import func, select

from desk_app.models import ChargeAttempt, Payment
from desk_app.services.actor import Actor
from desk_app.services.cards import CardRow
from desk_app.services.db import Database
from desk_app.services.payment_accounts import PaymentAccountInput
from desk_app.services.registry import Services
from desk_app.services.stripe_gateway import StripeGatewayFactory
from tests.builders import Clinic, small_clinic
from tests.fault_proxy import FaultProxy
from tests.memory_keyring import MemoryKeyring
from tests.stripe_server import LocalStripe

SECRET_KEY = "sk_test_frontdesk"
PUBLISHABLE_KEY = "pk_test_frontdesk"

VISA = "4242424242424242"
DECLINED = "4000000000000002"  # localstripe: declined when attached
INSUFFICIENT_FUNDS = "4000000000009995"  # localstripe: declined when attached
DECLINES_ON_CHARGE = "4000000000000341"  # attaches, then every charge is declined
THREE_D_SECURE = "4000002760003184"  # off-session charges need authentication


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[LocalStripe]:
    server = LocalStripe().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_url(localstripe_server: LocalStripe) -> str:
    localstripe_server.clear()
    return localstripe_server.url


def stripe_client(url: str) -> stripe.StripeClient:
    """A client straight to localstripe, for the test's own look at what Stripe holds."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": url}, max_network_retries=0)


@dataclass
class CardClinic:
    db: Database
    clinic: Clinic
    services: Services
    stripe_url: str
    account_id: uuid.UUID
    patient_id: uuid.UUID
    invoice_id: uuid.UUID

    @property
    def owner(self) -> Actor:
        return self.clinic.owner

    @property
    def desk(self) -> Actor:
        """Front Desk without the Billing permission: may charge, not refund or remove cards."""
        return self.clinic.desk

    @property
    def billing(self) -> Actor:
        return self.clinic.billing

    def add_card(self, number: str = VISA, *, exp_month: int = 12, exp_year: int = 2030,
                 patient_id: uuid.UUID | None = None,
                 account_id: uuid.UUID | None = None) -> CardRow:
        """Add a card the way the card form does: SetupIntent, Stripe.js, finish_add_card."""
        patient = patient_id or self.patient_id
        cards = self.services.cards
        session = cards.begin_add_card(self.owner, patient, account_id)
        pm_id = self.stripe_js_confirm(session.setup_intent_id, session.client_secret, number,
                                       exp_month, exp_year)
        return cards.finish_add_card(self.owner, patient, session.payment_account_id, pm_id,
                                     setup_intent_id=session.setup_intent_id)

    def stripe_js_confirm(self, setup_intent_id: str, client_secret: str, number: str,
                          exp_month: int = 12, exp_year: int = 2030) -> str:
        """What Stripe.js does in the card form: create the card, confirm the SetupIntent."""
        client = stripe_client(self.stripe_url)
        pm = client.v1.payment_methods.create({"type": "card", "card": {
            "number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"}})
        intent = client.v1.setup_intents.confirm(setup_intent_id, {
            "payment_method": pm.id, "client_secret": client_secret})
        if intent.status == "requires_action":  # 3-D Secure: the cardholder authenticates
            client.v1.setup_intents.confirm(setup_intent_id, {"client_secret": client_secret})
        return str(pm.id)

    def stripe_charges(self) -> list[dict[str, object]]:
        """Every succeeded charge at localstripe."""
        client = stripe_client(self.stripe_url)
        return [c.to_dict() for c in client.v1.charges.list({"limit": 100}).auto_paging_iter()
                if c.status == "succeeded"]

    def local_payments(self) -> int:
        with self.db.reading() as s:
            return int(s.scalar(select(func.count()).select_from(Payment)) or 0)

    def attempts(self) -> list[ChargeAttempt]:
        """The charge attempts, oldest first (detached copies)."""
        with self.db.transaction() as s:
            rows = list(s.scalars(select(ChargeAttempt).order_by(ChargeAttempt.created_at,
                                                                 ChargeAttempt.id)))
            s.expunge_all()
            return rows

    def owing(self, patient_id: uuid.UUID | None = None) -> int:
        return self.services.ledger.balance(self.owner, patient_id or self.patient_id).owing_cents

    def credit(self, patient_id: uuid.UUID | None = None) -> int:
        return self.services.ledger.balance(self.owner, patient_id or self.patient_id).credit_cents


def build_card_clinic(db: Database, url: str, *, api_base: str | None = None,
                      timeout: float = 5.0) -> CardClinic:
    """A clinic whose payment account talks to ``api_base`` (localstripe or a proxy to it)."""
    clinic = small_clinic(db)
    services = Services.build(
        db, gateway_factory=StripeGatewayFactory(api_base=api_base or url, timeout=timeout)
    )
    account = services.payment_accounts.add_account(
        clinic.owner,
        PaymentAccountInput(label="Harbour Physio", publishable_key=PUBLISHABLE_KEY,
                            secret_key=SECRET_KEY),
    )
    patient = clinic.patient("Maddy", "Smith")
    invoice = clinic.visit(patient, when=datetime(2026, 11, 20, 10, 0))
    return CardClinic(db, clinic, services, url, account.id, patient, invoice)


@pytest.fixture
def card_clinic(db: Database, stripe_url: str, memory_keyring: MemoryKeyring) -> CardClinic:
    return build_card_clinic(db, stripe_url)


@pytest.fixture
def fault_proxy(localstripe_server: LocalStripe) -> Iterator[FaultProxy]:
    host, port = localstripe_server.url.removeprefix("http://").split(":")
    proxy = FaultProxy(host, int(port))
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def proxied_clinic(db: Database, stripe_url: str, memory_keyring: MemoryKeyring,
                   fault_proxy: FaultProxy) -> CardClinic:
    """The card clinic talking to Stripe through the fault proxy, with a 1 s timeout."""
    return build_card_clinic(db, stripe_url, api_base=fault_proxy.url, timeout=1.0)
