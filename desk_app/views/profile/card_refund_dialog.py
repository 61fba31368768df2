"""Refund all or part of a card payment, back to the card or to the patient's account credit.

The dialog says, before anything is sent, which invoice applications the refund takes back
(the service's rule, in `card_payment_rows.refund_preview`). Whether the amount is allowed is
the service's call: an over-refund is refused there, and its message shown here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desk_app.models.money import format_money
from desk_app.services.card_payment_rows import CardPaymentRow, refund_preview
from desk_app.services.card_payments import RefundDestination
from desk_app.views import a11y
from desk_app.views.profile.charge_dialog import PREVIEW_STYLE
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.stripe_dialog import StripeActionDialog

TO_CARD, TO_CREDIT = "Back to the card", "To account credit"
RULE = (
    "A refund comes first out of this payment's unused credit; whatever more is needed is "
    "taken back off the invoices it paid, the most recently applied first. Those invoices "
    "then owe that much again."
)
CREDIT_RULE = (
    "No money goes back to the card: the amount is taken back off the invoices this payment "
    "paid (the most recently applied first) and becomes the patient's account credit."
)


@dataclass(frozen=True, slots=True)
class RefundRequest:
    payment_id: uuid.UUID
    amount_cents: int
    to: RefundDestination
    reason: str
    request_id: uuid.UUID


class CardRefundDialog(StripeActionDialog):
    def __init__(
        self,
        payment: CardPaymentRow,
        currency: str,
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        self.payment = payment
        self.currency = currency
        day = clinic_day_text(payment.received_at, time_zone)
        subtitle = (
            f"{payment.card_label} · {self._money(payment.amount_cents)} on {day} · "
            f"{self._money(payment.refundable_cents)} can still be refunded"
        )
        super().__init__(
            "Refund a card payment", "Refund", subtitle, "Asking Stripe for the refund…", parent
        )
        self.setMinimumWidth(560)

        self.amount = MoneyField("Amount", currency)
        self.first_input = self.amount.line_edit
        self.add_field("Amount", self.amount, field="amount")
        self.destinations = QButtonGroup(self)
        holder = QWidget()
        holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(6)
        self.to_card = QRadioButton(TO_CARD)
        self.to_credit = QRadioButton(TO_CREDIT)
        for radio in (self.to_card, self.to_credit):
            a11y.button_named(radio)
            self.destinations.addButton(radio)
            column.addWidget(radio)
        self.to_card.setChecked(True)
        self.add_field("Refund", holder)
        self.reason = QLineEdit()
        self.reason.setMaxLength(200)
        self.reason.setPlaceholderText("Optional: why, for the payment's history")
        self.add_field("Reason", self.reason)

        self.rule = QLabel()
        self.rule.setObjectName("muted")
        self.rule.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet(PREVIEW_STYLE)
        self.body.insertWidget(1, self.rule)
        self.body.insertWidget(2, self.preview)

        self.amount.set_amount(payment.refundable_cents)
        self.amount.edited.connect(self._update_preview)
        self.destinations.buttonToggled.connect(lambda _b, _on: self._update_preview())
        self._update_preview()

    @property
    def destination(self) -> RefundDestination:
        return "credit" if self.to_credit.isChecked() else "card"

    def collect(self) -> RefundRequest | None:
        amount = self.amount.amount()
        if amount is None:
            return None
        return RefundRequest(
            self.payment.id, amount, self.destination, self.reason.text().strip(),
            self.request_id,
        )

    def _update_preview(self) -> None:
        to = self.destination
        self.rule.setText(CREDIT_RULE if to == "credit" else RULE)
        self.action_button.setText("Refund to credit" if to == "credit" else "Refund to card")
        a11y.button_named(self.action_button)
        amount = self.amount.peek()
        if amount is None or amount <= 0:
            self.preview.hide()
            return
        plan = refund_preview(self.payment, amount, to)
        parts = []
        if plan.from_credit_cents:
            parts.append(f"{self._money(plan.from_credit_cents)} from this payment's unused credit")
        for share in plan.unapplied:
            parts.append(f"{self._money(share.cents)} unapplied from {share.number}")
        verb = "Moves" if to == "credit" else "Refunds"
        text = f"{verb} {self._money(amount)}"
        text += (": " + "; ".join(parts) + ".") if parts else "."
        if plan.too_much:
            text += " That is more than this payment allows: it will be refused."
        self.preview.setText(text)
        self.preview.show()

    def _money(self, cents: int) -> str:
        return format_money(cents, self.currency)
