"""Charges the card tests take again and again."""

from __future__ import annotations

from desk_app.services.card_payments import ChargeOutcome, WholeBalance
from desk_app.services.cards import CardRow
from tests.stripe_fixtures import CardClinic


def charge_whole_balance(c: CardClinic, card: CardRow) -> ChargeOutcome:
    """The front desk charges the patient's whole balance to `card`."""
    return c.services.card_payments.charge_card(c.desk, c.patient_id, card.id, WholeBalance())
