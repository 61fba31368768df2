"""Charge a card on file: the whole balance, chosen invoices, or an amount.

What the charge would pay is previewed with the service's own plan (on the database thread) as
the choice changes, so the desk confirms exactly what Stripe will be asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desk_app.models.money import format_money
from desk_app.services.card_payments import (
    ChargeAmount,
    ChargePlan,
    ChargeTarget,
    ChosenInvoices,
    WholeBalance,
)
from desk_app.services.cards import CardRow
from desk_app.services.ledger import InvoiceRow
from desk_app.views import a11y
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.invoice_choice_model import InvoiceChoiceModel
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.stripe_dialog import StripeActionDialog
from desk_app.views.profile.table_view import profile_table
from desk_app.views.view_context import ViewContext

WHOLE, CHOSEN, AMOUNT = range(3)
TARGET_LABELS = ("The whole balance", "Chosen invoices", "An amount")
PREVIEW_DELAY_MS = 150
PREVIEW_STYLE = (
    "QLabel { background: #e8f4f4; border: 1px solid #bfe0df; border-radius: 5px;"
    " padding: 6px 10px; }"
)


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    card_id: uuid.UUID
    target: ChargeTarget
    request_id: uuid.UUID


def plan_text(plan: ChargePlan) -> str:
    """'Charges $85.00 to the card: pays DEMO-00012 $85.00.' and what becomes credit."""

    def money(cents: int) -> str:
        return format_money(cents, plan.currency)

    text = f"Charges {money(plan.amount_cents)} to the card"
    if plan.invoices:
        paid = ", ".join(f"{number} {money(cents)}" for _id, number, cents in plan.invoices)
        text += f": pays {paid}"
    text += "."
    if plan.to_credit_cents:
        text += f" {money(plan.to_credit_cents)} becomes account credit."
    return text


class ChargeDialog(StripeActionDialog):
    def __init__(
        self,
        ctx: ViewContext,
        patient_id: uuid.UUID,
        patient_name: str,
        cards: Sequence[CardRow],
        invoices: Sequence[InvoiceRow],
        credit_cents: int,
        parent: QWidget | None = None,
    ) -> None:
        currency = ctx.clinic.currency
        self.ctx = ctx
        self.patient_id = patient_id
        self.choices = InvoiceChoiceModel(invoices, currency, ctx.clinic.time_zone)
        owing = sum(row.balance_cents for row in self.choices.rows)
        subtitle = f"{patient_name} · {format_money(owing, currency)} owing"
        super().__init__(
            "Charge a card on file",
            "Charge card",
            subtitle,
            "Charging the card with Stripe… this can take a few seconds.",
            parent,
        )
        self.setMinimumWidth(620)
        self.choices.setParent(self)
        self._preview_seq = 0

        self.card = QComboBox()
        for card in cards:
            if not card.expired:
                self.card.addItem(card.label, card.id)
        self.add_field("Card", self.card, field="card")

        self.targets = QButtonGroup(self)
        holder = QWidget()
        holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(6)
        for index, label in enumerate(TARGET_LABELS):
            radio = QRadioButton(label)
            a11y.button_named(radio)
            self.targets.addButton(radio, index)
            column.addWidget(radio)
        self.add_field("Charge for", holder)
        if credit_cents > 0:
            note = QLabel(
                f"The patient's {format_money(credit_cents, currency)} of credit is not used by "
                "a charge; apply it on the Billing tab first if they want that."
            )
            note.setObjectName("muted")
            note.setWordWrap(True)
            self.form.addRow("", note)

        self.invoices = profile_table(
            "Invoices to charge",
            self.choices,
            {
                InvoiceChoiceModel.NUMBER: "☐ DEMO-00000",
                InvoiceChoiceModel.DATE: "Sep 30, 2026",
                InvoiceChoiceModel.BALANCE: "$1,000.00",
            },
            stretch=InvoiceChoiceModel.ITEM,
        )
        rows = max(1, min(self.choices.rowCount(), 4))
        height = self.invoices.horizontalHeader().sizeHint().height()
        height += rows * self.invoices.verticalHeader().defaultSectionSize() + 4
        self.invoices.setFixedHeight(height)
        self.body.insertWidget(1, self.invoices)

        self.amount = MoneyField("Amount", currency)
        self.amount_row = self.add_field("Amount", self.amount, field="amount")
        self.amount_hint = QLabel("Anything beyond what the invoices owe becomes account credit.")
        self.amount_hint.setObjectName("muted")
        self.amount_hint.setWordWrap(True)
        self.form.addRow("", self.amount_hint)

        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet(PREVIEW_STYLE)
        self.preview.hide()
        self.body.insertWidget(2, self.preview)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._run_preview)
        self.targets.idToggled.connect(self._target_toggled)
        self.amount.edited.connect(self._preview_timer.start)
        self.choices.checks_changed.connect(self._preview_timer.start)
        if owing > 0:
            self.amount.set_amount(owing)
        self.set_target(WHOLE if owing > 0 else AMOUNT)

    # ----- choosing --------------------------------------------------------------------------

    def set_target(self, which: int) -> None:
        button = self.targets.button(which)
        button.setChecked(True)
        self._target_changed()

    def _target_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._target_changed()

    def _target_changed(self) -> None:
        which = self.targets.checkedId()
        self.invoices.setVisible(which == CHOSEN)
        self.form.setRowVisible(self.amount_row, which == AMOUNT)
        self.form.setRowVisible(self.amount_hint, which == AMOUNT)
        if which == AMOUNT:
            self.first_input = self.amount.line_edit
        self.clear_errors()
        self._run_preview()

    def target(self, *, quiet: bool = False) -> ChargeTarget | None:
        """What to charge; None (after saying why, unless `quiet`) when it cannot be read."""
        which = self.targets.checkedId()
        if which == WHOLE:
            return WholeBalance()
        if which == CHOSEN:
            ids = tuple(self.choices.checked_ids())
            if not ids:
                if not quiet:
                    self.error.show_message("Tick at least one invoice to charge.")
                return None
            return ChosenInvoices(ids)
        cents = self.amount.peek() if quiet else self.amount.amount()
        return None if cents is None else ChargeAmount(cents)

    def collect(self) -> ChargeRequest | None:
        card_id = self.card.currentData()
        if not isinstance(card_id, uuid.UUID):
            self.error.show_message("There is no card on file that can be charged.")
            return None
        target = self.target()
        if target is None:
            return None
        return ChargeRequest(card_id, target, self.request_id)

    # ----- the preview -----------------------------------------------------------------------

    def _run_preview(self) -> None:
        target = self.target(quiet=True)
        self._preview_seq += 1
        if target is None:
            self.preview.hide()
            return
        seq, actor, pid = self._preview_seq, self.ctx.actor, self.patient_id
        payments = self.ctx.services.card_payments
        self.ctx.tasks.db(
            lambda: payments.plan(actor, pid, target),
            lambda plan: self._show_preview(seq, plan_text(plan)),
            lambda error: self._show_preview(seq, message_for(error)),
            owner=self,
        )

    def _show_preview(self, seq: int, text: str) -> None:
        if seq != self._preview_seq:
            return  # the choice changed meanwhile
        self.preview.setText(text)
        self.preview.show()
