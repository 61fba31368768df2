"""Taking a payment back off the selected invoice; the money becomes credit again."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from desk_app.models.money import format_money
from desk_app.services.ledger import AllocationRow, InvoiceRow, PaymentRow
from desk_app.views.profile.billing_models import payment_label
from desk_app.views.profile.payment_choice_dialog import PaymentChoice, PaymentChoiceDialog


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


class UnapplyDialog(PaymentChoiceDialog):
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
        applied = applied_by_payment(invoice.id, allocations)
        choices = [
            PaymentChoice(
                f"{payment_label(p, currency, time_zone)} — "
                f"{format_money(applied[p.id], currency)} applied",
                p.id,
                applied[p.id],
            )
            for p in payments
            if p.id in applied
        ]
        super().__init__(
            "Unapply a payment",
            "Unapply",
            subtitle,
            choices,
            currency,
            "Nothing is applied to this invoice.",
            parent,
        )
        self.invoice = invoice

    def collect(self) -> UnapplyRequest | None:
        chosen = self.chosen()
        if chosen is None:
            return None
        payment_id, amount = chosen
        return UnapplyRequest(payment_id, self.invoice.id, amount)
