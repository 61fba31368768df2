"""The Cards & charges tab: cards on file, charging them, topping up credit, card refunds.

Every Stripe call runs on the network pool (see `card_actions`); this tab only shows what the
services report and offers what the signed-in person may do. While a charge or refund is being
checked with Stripe a banner says so, and charging is off until it is settled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QWidget

from desk_app.services.actor import Actor
from desk_app.services.card_payment_rows import CardPaymentRow
from desk_app.services.card_payments import UnsettledAttempt
from desk_app.services.cards import CardRow
from desk_app.services.payment_accounts import PaymentAccountRow
from desk_app.services.permissions import Permission
from desk_app.services.registry import Services
from desk_app.views.profile import card_actions as actions
from desk_app.views.profile.card_models import CardPaymentsModel, CardsModel
from desk_app.views.profile.tab_parts import TableTab, action_button, allow
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.profile.unsettled_banner import UnsettledBanner
from desk_app.views.view_context import ViewContext

NO_ACCOUNT = "Set up a payment account in Clinic ▸ Payment accounts first"
UNSETTLED = "A card charge is being checked with Stripe: nothing more until it is settled."


@dataclass(frozen=True, slots=True)
class CardsSnapshot:
    cards: list[CardRow]
    payments: list[CardPaymentRow]
    unsettled: list[UnsettledAttempt]
    accounts: list[PaymentAccountRow]

    @property
    def primary(self) -> PaymentAccountRow | None:
        return next((a for a in self.accounts if a.is_primary), None)


def load_snapshot(services: Services, actor: Actor, patient_id: uuid.UUID) -> CardsSnapshot:
    """Everything the tab shows (database only: no Stripe call)."""
    return CardsSnapshot(
        cards=services.cards.list_cards(actor, patient_id),
        payments=services.card_payments.card_payments_for_patient(actor, patient_id),
        unsettled=services.card_payments.unsettled_for_patient(actor, patient_id),
        accounts=services.payment_accounts.list_accounts(actor),
    )


class CardsTab(TableTab):
    #: A card charge, top-up or refund changed what the patient owes or holds.
    money_written = Signal()
    #: A fresh snapshot is on screen.
    loaded = Signal(object)
    #: The bank wants the patient to authenticate: send them a pay-balance link instead.
    pay_link_requested = Signal()

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, patient_id, parent)
        self.snapshot: CardsSnapshot | None = None
        currency, tz = ctx.clinic.currency, ctx.clinic.time_zone

        self.cards = CardsModel(tz, self)
        self.payments = CardPaymentsModel(currency, tz, self)
        self.card_table = profile_table(
            "Cards on file",
            self.cards,
            {
                CardsModel.BRAND: "American Express",
                CardsModel.LAST4: "•••• 0000",
                CardsModel.EXPIRES: "12/2030",
                CardsModel.STATUS: "Expired",
                CardsModel.ADDED_BY: "Jordan Reyes-Smith",
                CardsModel.ADDED_ON: "Sep 30, 2026",
            },
            stretch=CardsModel.ACCOUNT,
        )
        self.payment_table = profile_table(
            "Card payments",
            self.payments,
            {
                CardPaymentsModel.DATE: "Sep 30, 2026",
                CardPaymentsModel.CARD: "Mastercard •••• 0000",
                CardPaymentsModel.AMOUNT: "$10,000.00",
                CardPaymentsModel.REFUNDED: "$10,000.00",
                CardPaymentsModel.APPLIED: "$10,000.00",
                CardPaymentsModel.CREDIT: "$10,000.00",
            },
            stretch=CardPaymentsModel.COLLECTED_BY,
        )
        self.card_table.selectionModel().selectionChanged.connect(self._update_actions)
        self.payment_table.selectionModel().selectionChanged.connect(self._update_actions)

        self.charge_button = action_button("Charge card…", lambda: actions.open_charge(self))
        self.charge_button.setProperty("primary", True)
        self.top_up_button = action_button("Top up credit…", lambda: actions.open_top_up(self))
        self.add_button = action_button("Add card…", self.add_card)
        self.remove_button = action_button("Remove card", lambda: actions.open_remove_card(self))
        self.refund_button = action_button("Refund…", lambda: actions.open_refund(self))
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (self.charge_button, self.top_up_button, self.add_button,
                       self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refund_button)

        self.unsettled = UnsettledBanner(currency)
        self.unsettled.check_requested.connect(lambda: actions.check_now(self))
        tables = [("Cards on file", self.card_table, 2), ("Card payments", self.payment_table, 3)]
        self.lay_out(buttons, tables)
        layout = self.layout()
        assert isinstance(layout, QBoxLayout)
        layout.insertWidget(0, self.unsettled)
        self._update_actions()

    def add_card(self) -> None:
        actions.open_add_card(self)

    # ----- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        services, actor, pid = self.ctx.services, self.ctx.actor, self.patient_id
        self.call(
            lambda: load_snapshot(services, actor, pid),
            self._loaded,
            "Cards could not be loaded: ",
        )

    def written(self, message: str, *, money: bool = True) -> None:
        """After a card action: confirm it, reload, and (for money) let Billing reload too."""
        self.banner.show_success(message)
        self.reload()
        if money:
            self.money_written.emit()

    def _loaded(self, snapshot: CardsSnapshot) -> None:
        keep = self._row_to_select()
        kept_payment = self.selected_payment()
        self.snapshot = snapshot
        self.cards.set_rows(snapshot.cards)
        self.payments.set_rows(snapshot.payments)
        if keep is not None:
            select_id(self.card_table, snapshot.cards, keep)
        if kept_payment is not None:
            select_id(self.payment_table, snapshot.payments, kept_payment.id)
        self.unsettled.set_attempts(snapshot.unsettled)
        self._update_actions()
        self.loaded.emit(snapshot)

    # ----- selection and what is allowed ---------------------------------------------------

    def selected_card(self) -> CardRow | None:
        row = selected_row(self.card_table)
        return None if row is None else self.cards.row_at(row)

    def selected_payment(self) -> CardPaymentRow | None:
        row = selected_row(self.payment_table)
        return None if row is None else self.payments.row_at(row)

    def selected_id(self) -> uuid.UUID | None:
        card = self.selected_card()
        return None if card is None else card.id

    def _update_actions(self) -> None:
        snap = self.snapshot
        can = self.ctx.can
        has_account = snap is not None and bool(snap.accounts)
        charging_blocked = snap is not None and any(u.kind == "charge" for u in snap.unsettled)
        chargeable = snap is not None and any(not c.expired for c in snap.cards)

        def money_reason(needs_card: bool) -> str:
            if snap is None:
                return ""
            if not can(Permission.TAKE_PAYMENT):
                return _denied(Permission.TAKE_PAYMENT)
            if not has_account:
                return NO_ACCOUNT
            if charging_blocked:
                return UNSETTLED
            if needs_card and not chargeable:
                return "There is no card on file that can be charged: add one first."
            return ""

        charge_reason = money_reason(needs_card=True)
        allow(self.charge_button, snap is not None and not charge_reason, charge_reason)
        top_up_reason = money_reason(needs_card=False)
        allow(self.top_up_button, snap is not None and not top_up_reason, top_up_reason)
        add_reason = (
            _denied(Permission.TAKE_PAYMENT) if not can(Permission.TAKE_PAYMENT)
            else "" if has_account else NO_ACCOUNT
        )
        allow(self.add_button, snap is not None and not add_reason, add_reason)

        card = self.selected_card()
        if not can(Permission.MANAGE_CARDS):
            allow(self.remove_button, False, _denied(Permission.MANAGE_CARDS))
        elif not has_account and snap is not None:
            allow(self.remove_button, False, NO_ACCOUNT)
        else:
            allow(self.remove_button, card is not None, "Select a card to remove.")

        payment = self.selected_payment()
        if not can(Permission.REFUND):
            allow(self.refund_button, False, _denied(Permission.REFUND))
        elif payment is None:
            allow(self.refund_button, False, "Select a card payment to refund.")
        else:
            allow(self.refund_button, payment.refundable_cents > 0, "Refunded in full already.")


def _denied(permission: Permission) -> str:
    return f"You do not have permission to {permission.value}."
