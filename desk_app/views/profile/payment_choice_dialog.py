"""A dialog that moves an amount of one chosen payment: applying it, or unapplying it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QWidget

from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.money_field import MoneyField


@dataclass(frozen=True, slots=True)
class PaymentChoice:
    label: str
    payment_id: uuid.UUID
    #: The amount filled in when this payment is chosen.
    prefill_cents: int


class PaymentChoiceDialog(ActionDialog):
    """A Payment list and an Amount, prefilled from the payment chosen.

    `no_choice` is said when the list is empty and the action is pressed.
    """

    def __init__(
        self,
        title: str,
        action_label: str,
        subtitle: str,
        choices: Sequence[PaymentChoice],
        currency: str,
        no_choice: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, action_label, subtitle, parent)
        self._prefills = [choice.prefill_cents for choice in choices]
        self._no_choice = no_choice
        self.payment = QComboBox()
        for choice in choices:
            self.payment.addItem(choice.label, choice.payment_id)
        self.add_field("Payment", self.payment, field="payment")
        self.amount = MoneyField("Amount", currency)
        self.first_input = self.amount.line_edit
        self.add_field("Amount", self.amount, field="amount")
        self.payment.currentIndexChanged.connect(self._prefill)
        self._prefill()

    def _prefill(self) -> None:
        index = self.payment.currentIndex()
        if 0 <= index < len(self._prefills):
            self.amount.set_amount(self._prefills[index])

    def chosen(self) -> tuple[uuid.UUID, int] | None:
        """The payment and the amount typed, or None after showing what to fix."""
        payment_id = self.payment.currentData()
        if not isinstance(payment_id, uuid.UUID):
            self.error.show_message(self._no_choice)
            return None
        amount = self.amount.amount()
        if amount is None:
            return None
        return payment_id, amount
