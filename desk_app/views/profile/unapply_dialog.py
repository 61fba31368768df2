"""Taking a payment back off the selected invoice; the money becomes credit again."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QWidget

from desk_app.models.money import format_money
from desk_app.services.ledger import AllocationRow, InvoiceRow, PaymentRow
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.billing_models import payment_label
from desk_app.views.profile.money_field import MoneyField


@dataclass(frozen=True, slots=True)
class UnapplyRequest:
    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    amount_cents: int


def applied_by_payment(
    invoice_id: uuid.UUID, allocations: Sequence[AllocationRow]
) -> dict[uuid.UUID, int]:
    """How much of each payment is still applied to one invoice (unapplies are negative rows)."""
    net: dict[uuid.UUID, int] = defaultdict(int)
    for row in allocations:
        if row.invoice_id == invoice_id:
            net[row.payment_id] += row.amount_cents
    return {payment: amount for payment, amount in net.items() if amount > 0}


class UnapplyDialog(ActionDialog):
    def __init__(
        self,
        invoice: InvoiceRow,
        payments: Sequence[PaymentRow],
        allocations: Sequence[AllocationRow],
        currency: str,
        time_zone: str,
        parent: QWidget | None = None,
    ) -> None:
        subtitle = (
            f"Invoice {invoice.number} · {format_money(invoice.applied_cents, currency)} applied."
            " What you unapply goes back to the patient's credit."
        )
        super().__init__("Unapply a payment", "Unapply", subtitle, parent)
        self.invoice = invoice
        applied = applied_by_payment(invoice.id, allocations)
        self._choices = [(p, applied[p.id]) for p in payments if p.id in applied]
        self.payment = QComboBox()
        for p, amount in self._choices:
            self.payment.addItem(
                f"{payment_label(p, currency, time_zone)} — {format_money(amount, currency)}"
                " applied",
                p.id,
            )
        self.add_field("Payment", self.payment, field="payment")
        self.amount = MoneyField("Amount", currency)
        self.first_input = self.amount.line_edit
        self.add_field("Amount", self.amount, field="amount")
        self.payment.currentIndexChanged.connect(self._prefill)
        self._prefill()

    def _prefill(self) -> None:
        index = self.payment.currentIndex()
        if 0 <= index < len(self._choices):
            self.amount.set_amount(self._choices[index][1])

    def collect(self) -> UnapplyRequest | None:
        payment_id = self.payment.currentData()
        if not isinstance(payment_id, uuid.UUID):
            self.error.show_message("Nothing is applied to this invoice.")
            return None
        amount = self.amount.amount()
        if amount is None:
            return None
        return UnapplyRequest(payment_id, self.invoice.id, amount)
