"""Top up a patient's account credit with a card: amount, location, and which card.

The money goes to the clinic's primary payment account, so only cards saved there are offered;
"Add a new card…" opens Stripe's card form and picks the card it saves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from desk_app.services.appointments import Choice
from desk_app.services.cards import CardRow
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.stripe_dialog import StripeActionDialog

NEW_CARD = "Add a new card…"


@dataclass(frozen=True, slots=True)
class TopUpRequest:
    amount_cents: int
    location_id: uuid.UUID | None
    card_id: uuid.UUID
    request_id: uuid.UUID


class TopUpDialog(StripeActionDialog):
    #: "Add a new card…" was chosen: open the card form (then `card_added` or `card_not_added`).
    add_card_requested = Signal()

    def __init__(
        self,
        patient_name: str,
        currency: str,
        cards: Sequence[CardRow],
        primary_account_id: uuid.UUID,
        primary_label: str,
        locations: Sequence[Choice],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Top up account credit",
            "Top up credit",
            f"{patient_name} · paid into {primary_label} (the primary payment account)",
            "Charging the card with Stripe… this can take a few seconds.",
            parent,
            link_label="Send a top-up link",
        )
        self.setMinimumWidth(540)
        self.amount = MoneyField("Amount", currency)
        self.first_input = self.amount.line_edit
        self.add_field("Amount", self.amount, field="amount")

        self.location = QComboBox()
        for place in locations:
            self.location.addItem(place.label, place.id)
        self.add_field("Location", self.location, field="location_id")

        self.card = QComboBox()
        usable = [c for c in cards if not c.expired and c.payment_account_id == primary_account_id]
        for card in usable:
            self.card.addItem(card.label, card.id)
        self.card.addItem(NEW_CARD, None)
        self.add_field("Card", self.card, field="card")
        self._last_card = 0
        if len(usable) < sum(1 for c in cards if not c.expired):
            note = QLabel(
                "Cards saved in another payment account are not offered: credit is paid into "
                "the primary account."
            )
            note.setObjectName("muted")
            note.setWordWrap(True)
            self.form.addRow("", note)
        hint = QLabel(
            "Recorded as a payment applied to no invoice; it shows as Available Credit and can "
            "be applied to future visits."
        )
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.body.insertWidget(1, hint)
        self.card.activated.connect(self._card_chosen)
        if not usable:
            self.card.setCurrentIndex(self.card.count() - 1)

    def _card_chosen(self, index: int) -> None:
        if self.card.itemData(index) is None:
            self.add_card_requested.emit()
        else:
            self._last_card = index

    def card_added(self, card: CardRow) -> None:
        """The card form saved a card: offer it, chosen."""
        self.card.insertItem(self.card.count() - 1, card.label, card.id)
        self._last_card = self.card.count() - 2
        self.card.setCurrentIndex(self._last_card)

    def card_not_added(self) -> None:
        self.card.setCurrentIndex(self._last_card)

    def collect(self) -> TopUpRequest | None:
        amount = self.amount.amount()
        if amount is None:
            return None
        card_id = self.card.currentData()
        if not isinstance(card_id, uuid.UUID):
            self.show_field_error("card", "Choose a card, or add a new one.")
            return None
        location = self.location.currentData()
        return TopUpRequest(
            amount, location if isinstance(location, uuid.UUID) else None, card_id,
            self.request_id,
        )
