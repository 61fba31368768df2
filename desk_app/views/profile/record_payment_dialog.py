"""Record money taken at the desk and choose which invoices it pays."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from desk_app.models.enums import PaymentMethod
from desk_app.models.money import format_money
from desk_app.services.ledger import InvoiceRow
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.invoice_choice_model import InvoiceChoiceModel
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.table_view import profile_table

#: Card payments go through the card on file (Stripe), never typed in here.
DESK_METHODS = (
    PaymentMethod.CASH,
    PaymentMethod.CHEQUE,
    PaymentMethod.DEBIT,
    PaymentMethod.E_TRANSFER,
    PaymentMethod.GIFT_CARD,
    PaymentMethod.OTHER,
)


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    method: PaymentMethod
    amount_cents: int
    reference: str
    apply_to: list[uuid.UUID]


class RecordPaymentDialog(ActionDialog):
    def __init__(
        self,
        patient_name: str,
        invoices: Sequence[InvoiceRow],
        currency: str,
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        self.currency = currency
        self.choices = InvoiceChoiceModel(invoices, currency, time_zone)
        owing = sum(row.balance_cents for row in self.choices.rows)
        subtitle = f"{patient_name} · {format_money(owing, currency)} owing"
        super().__init__("Record a payment", "Record payment", subtitle, parent)
        self.setMinimumWidth(620)
        self.choices.setParent(self)

        self.method = QComboBox()
        for method in DESK_METHODS:
            self.method.addItem(method.label, method.value)
        self.add_field("Method", self.method)
        self.amount = MoneyField("Amount", currency)
        self.first_input = self.amount.line_edit
        self.add_field("Amount", self.amount, field="amount")
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Cheque number, e-transfer confirmation, …")
        self.reference.setMaxLength(120)
        self.add_field("Reference", self.reference)

        title = QLabel("Apply to these invoices, oldest first")
        title.setObjectName("sectionTitle")
        title.setStyleSheet("font-weight: 600; color: #34474f;")
        self.body.addWidget(title)
        if self.choices.rowCount() > 0:
            self.invoices = profile_table(
                "Invoices to pay",
                self.choices,
                {
                    InvoiceChoiceModel.NUMBER: "☐ DEMO-00000",
                    InvoiceChoiceModel.DATE: "Sep 30, 2026",
                    InvoiceChoiceModel.BALANCE: "$1,000.00",
                },
                stretch=InvoiceChoiceModel.ITEM,
            )
            rows = min(self.choices.rowCount(), 5)
            height = self.invoices.horizontalHeader().sizeHint().height()
            height += rows * self.invoices.verticalHeader().defaultSectionSize() + 4
            self.invoices.setFixedHeight(height)
            self.body.addWidget(self.invoices)
        else:
            none = QLabel("Nothing is owing: the whole payment will be kept as credit.")
            none.setObjectName("muted")
            self.body.addWidget(none)

        self.outcome = QLabel()
        self.outcome.setObjectName("hint")
        self.outcome.setStyleSheet(
            "QLabel { background: #e8f4f4; border: 1px solid #bfe0df; border-radius: 5px;"
            " padding: 6px 10px; }"
        )
        self.outcome.setWordWrap(True)
        self.body.addWidget(self.outcome)

        if owing > 0:
            self.amount.set_amount(owing)
        self.amount.edited.connect(self._update_outcome)
        self.choices.checks_changed.connect(self._update_outcome)
        self._update_outcome()
        a11y.name(self.method, "Method")

    def collect(self) -> PaymentRequest | None:
        amount = self.amount.amount()
        if amount is None:
            return None
        method = PaymentMethod(self.method.currentData())
        return PaymentRequest(method, amount, self.reference.text(), self.choices.checked_ids())

    def _update_outcome(self) -> None:
        amount = self.amount.peek()
        if amount is None:
            self.outcome.setVisible(False)
            return
        applied = min(amount, self.choices.checked_balance())
        credit = amount - applied
        count = len(self._paid_invoices(amount))
        parts = []
        if applied:
            noun = "invoice" if count == 1 else "invoices"
            parts.append(f"{format_money(applied, self.currency)} pays {count} {noun}")
        if credit:
            parts.append(f"{format_money(credit, self.currency)} will be left as credit")
        self.outcome.setText(" · ".join(parts))
        self.outcome.setVisible(bool(parts))

    def _paid_invoices(self, amount: int) -> list[uuid.UUID]:
        """The ticked invoices the amount reaches, in the order it pays them."""
        reached = []
        remaining = amount
        checked = set(self.choices.checked_ids())
        for row in self.choices.rows:
            if remaining <= 0:
                break
            if row.id in checked:
                reached.append(row.id)
                remaining -= row.balance_cents
        return reached
