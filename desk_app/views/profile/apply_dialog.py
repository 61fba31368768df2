"""Paying the selected invoice from credit, or from one particular payment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from desk_app.models.money import format_money
from desk_app.services.ledger import InvoiceRow, PaymentRow
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.billing_models import payment_label
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.payment_choice_dialog import PaymentChoice, PaymentChoiceDialog


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    invoice_id: uuid.UUID
    amount_cents: int
    payment_id: uuid.UUID | None = None  # None: from credit, oldest first


class ApplyCreditDialog(ActionDialog):
    def __init__(
        self,
        invoice: InvoiceRow,
        credit_cents: int,
        currency: str,
        parent: QWidget | None = None,
    ) -> None:
        subtitle = (
            f"Invoice {invoice.number} · {format_money(invoice.balance_cents, currency)} owing"
            f" · {format_money(credit_cents, currency)} credit available"
        )
        super().__init__("Apply credit", "Apply credit", subtitle, parent)
        self.invoice = invoice
        self.amount = MoneyField("Amount", currency)
        self.first_input = self.amount.line_edit
        self.amount.set_amount(min(credit_cents, invoice.balance_cents))
        self.add_field("Amount", self.amount, field="amount")

    def collect(self) -> ApplyRequest | None:
        amount = self.amount.amount()
        return None if amount is None else ApplyRequest(self.invoice.id, amount)


class ApplyPaymentDialog(PaymentChoiceDialog):
    def __init__(
        self,
        invoice: InvoiceRow,
        payments: Sequence[PaymentRow],
        currency: str,
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        subtitle = (
            f"Invoice {invoice.number} · {format_money(invoice.balance_cents, currency)} owing"
        )
        choices = [
            PaymentChoice(
                f"{payment_label(p, currency, time_zone)} — "
                f"{format_money(p.unapplied_cents, currency)} unapplied",
                p.id,
                min(p.unapplied_cents, invoice.balance_cents),
            )
            for p in payments
            if p.unapplied_cents > 0
        ]
        super().__init__(
            "Apply a payment",
            "Apply payment",
            subtitle,
            choices,
            currency,
            "Choose the payment to apply.",
            parent,
        )
        self.invoice = invoice

    def collect(self) -> ApplyRequest | None:
        chosen = self.chosen()
        if chosen is None:
            return None
        payment_id, amount = chosen
        return ApplyRequest(self.invoice.id, amount, payment_id)
