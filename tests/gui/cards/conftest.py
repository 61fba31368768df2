"""Card GUI fixtures: the demo clinic with a test-mode payment account at localstripe.

``card_desk`` signs in Sam Lee (Front Desk with the Billing permission) on the demo clinic,
whose services talk to localstripe, with the account's secret key in the in-memory keyring;
Maddy owes $85.00 for insoles.
``add_card`` plays Stripe.js (the test is the patient typing their card): card numbers
appear only in test code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from desk_app.services.actor import Actor
from desk_app.services.cards import CardRow
from desk_app.services.db import Database
from desk_app.services.payment_accounts import PaymentAccountInput
from desk_app.services.registry import Services
from desk_app.services.stripe_gateway import StripeGatewayFactory
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named
from tests.gui.conftest import signed_in
from tests.gui.helpers_profile import sell_item
from tests.memory_keyring import MemoryKeyring
from tests.stripe_fixtures import PUBLISHABLE_KEY, SECRET_KEY, VISA, stripe_client


@dataclass
class CardDesk:
    ctx: ViewContext
    services: Services
    owner: Actor
    patient_id: uuid.UUID
    account_id: uuid.UUID
    stripe_url: str

    @property
    def desk(self) -> Actor:
        return self.ctx.actor

    def add_card(self, number: str = VISA, exp_month: int = 12, exp_year: int = 2030) -> CardRow:
        """The card form's work without the form: Stripe.js creates and confirms the card."""
        cards = self.services.cards
        session = cards.begin_add_card(self.desk, self.patient_id)
        client = stripe_client(self.stripe_url)
        pm = client.v1.payment_methods.create({"type": "card", "card": {
            "number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"}})
        intent = client.v1.setup_intents.confirm(session.setup_intent_id, {
            "payment_method": pm.id, "client_secret": session.client_secret})
        if intent.status == "requires_action":  # 3-D Secure: the cardholder authenticates
            client.v1.setup_intents.confirm(session.setup_intent_id, {
                "client_secret": session.client_secret})
        return cards.finish_add_card(self.desk, self.patient_id, session.payment_account_id,
                                     str(pm.id), setup_intent_id=session.setup_intent_id)

    def balance(self) -> tuple[int, int]:
        b = self.services.ledger.balance(self.desk, self.patient_id)
        return b.owing_cents, b.credit_cents

    def stripe_charges(self) -> list[dict[str, object]]:
        client = stripe_client(self.stripe_url)
        return [c.to_dict() for c in client.v1.charges.list({"limit": 100}).auto_paging_iter()
                if c.status == "succeeded"]


def card_services(db: Database, stripe_url: str) -> Services:
    return Services.build(db, gateway_factory=StripeGatewayFactory(api_base=stripe_url,
                                                                   timeout=5.0))


@pytest.fixture
def card_desk(demo_db: Database, stripe_url: str, memory_keyring: MemoryKeyring,
              tasks: TaskRunner, maddy_id: uuid.UUID) -> CardDesk:
    services = card_services(demo_db, stripe_url)
    owner = actor_named(demo_db, "owner")
    account = services.payment_accounts.add_account(owner, PaymentAccountInput(
        label="Harbour Physio", publishable_key=PUBLISHABLE_KEY, secret_key=SECRET_KEY))
    desk = actor_named(demo_db, "frontdesk")
    sell_item(services, desk, maddy_id, 8500)  # something owing to charge
    return CardDesk(signed_in(services, desk, tasks), services, owner, maddy_id, account.id,
                    stripe_url)
