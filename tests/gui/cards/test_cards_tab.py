"""The Cards & charges tab at the desk: charging a card on file, declines, refunds, top-ups."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from desk_app.models.money import format_money
from desk_app.services.card_payment_rows import CardPaymentRow
from desk_app.services.card_payments import WholeBalance
from desk_app.views.profile.card_models import EXPIRED_COLOUR
from desk_app.views.profile.card_refund_dialog import CardRefundDialog
from desk_app.views.profile.cards_tab import NO_ACCOUNT, CardsTab
from desk_app.views.profile.charge_dialog import ChargeDialog
from desk_app.views.profile.profile_view import ProfileView
from desk_app.views.profile.reminder_dialog import ReminderDialog
from desk_app.views.profile.top_up_dialog import TopUpDialog
from desk_app.views.view_context import ViewContext
from tests.gui.cards.conftest import CardDesk
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import (
    click,
    named,
    open_dialog,
    open_profile,
    open_with,
    select_row,
    type_into,
    wait_closed,
)
from tests.stripe_fixtures import DECLINES_ON_CHARGE, THREE_D_SECURE

pytestmark = pytest.mark.gui

CARDS_TAB = "Cards && charges"


def money(cents: int) -> str:
    return format_money(cents, "CAD")


def header(view: ProfileView) -> tuple[str, str]:
    owing = view.findChild(QLabel, "balanceOwing")
    credit = view.findChild(QLabel, "availableCredit")
    assert owing is not None and credit is not None
    return owing.text(), credit.text()


def cards_profile(qtbot: QtBot, desk: CardDesk) -> ProfileView:
    return open_profile(qtbot, desk.ctx, desk.patient_id, CARDS_TAB)


def test_charging_the_card_on_file_for_the_whole_balance_drops_the_balance(
    qtbot: QtBot, card_desk: CardDesk
) -> None:
    desk = card_desk
    desk.add_card()
    owing, credit = desk.balance()
    assert owing > 0
    view = cards_profile(qtbot, desk)
    assert header(view) == (money(owing), money(credit))

    dialog = open_with(qtbot, view.cards, "Charge card…", ChargeDialog)
    qtbot.waitUntil(lambda: dialog.preview.isVisible(), timeout=5_000)
    assert dialog.preview.text().startswith(f"Charges {money(owing)} to the card: pays ")
    assert dialog.link_row.isHidden()
    # A double-click: the same request twice is one charge.
    request = dialog.collect()
    assert request is not None and isinstance(request.target, WholeBalance)
    dialog.set_busy(True)
    dialog.submitted.emit(request)
    dialog.submitted.emit(request)
    assert not dialog.action_button.isEnabled() and dialog.busy_row.running
    wait_closed(qtbot, desk.ctx, dialog)
    wait_idle(qtbot, desk.ctx)

    assert desk.balance() == (0, credit)
    assert header(view) == (money(0), money(credit))
    payments = desk.services.card_payments.card_payments_for_patient(desk.desk, desk.patient_id)
    assert [p.amount_cents for p in payments] == [owing]
    assert len(desk.stripe_charges()) == 1
    assert view.cards.payments.rowCount() == 1
    assert view.cards.banner.text() == f"Charged {money(owing)} to the card."
    assert view.billing.payments.rowCount() == len(
        desk.services.ledger.billing_summary(desk.desk, desk.patient_id).payments)


def test_a_declined_card_says_so_and_records_nothing(qtbot: QtBot, card_desk: CardDesk) -> None:
    desk = card_desk
    desk.add_card(DECLINES_ON_CHARGE)
    before = desk.balance()
    view = cards_profile(qtbot, desk)
    dialog = open_with(qtbot, view.cards, "Charge card…", ChargeDialog)
    first_request = dialog.request_id
    click(qtbot, dialog, "Charge card")
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=20_000)
    wait_idle(qtbot, desk.ctx)

    assert dialog.isVisible()
    assert dialog.error.text().startswith("The card was declined.")
    assert "Nothing was charged" in dialog.error.text()
    assert dialog.action_button.isEnabled() and not dialog.busy_row.running
    assert dialog.request_id != first_request  # trying again is a new, deliberate charge
    assert desk.balance() == before
    assert desk.services.card_payments.card_payments_for_patient(desk.desk, desk.patient_id) == []
    assert desk.stripe_charges() == []
    dialog.reject()


def test_a_card_needing_authentication_offers_a_pay_balance_link(
    qtbot: QtBot, card_desk: CardDesk
) -> None:
    desk = card_desk
    desk.add_card(THREE_D_SECURE)
    before = desk.balance()
    view = cards_profile(qtbot, desk)
    dialog = open_with(qtbot, view.cards, "Charge card…", ChargeDialog)
    click(qtbot, dialog, "Charge card")
    qtbot.waitUntil(lambda: dialog.link_row.isVisible(), timeout=20_000)
    wait_idle(qtbot, desk.ctx)
    assert "authenticate" in dialog.error.text()
    assert desk.balance() == before and desk.stripe_charges() == []
    link = named(dialog, QPushButton, "Send a pay-balance link")
    assert link.isEnabled()
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    # The charge window closes; Billing notices opens with a reminder ready to send.
    reminder = open_dialog(qtbot, view.notices, ReminderDialog)
    assert view.tabs.currentWidget() is view.notices
    assert reminder.windowTitle() in ("Text Reminder", "Email Reminder")
    reminder.reject()


def test_refund_part_of_a_card_payment_to_the_card_then_to_credit(
    qtbot: QtBot, card_desk: CardDesk
) -> None:
    desk = card_desk
    card = desk.add_card()
    outcome = desk.services.card_payments.charge_card(desk.desk, desk.patient_id, card.id,
                                                      WholeBalance())
    assert outcome.succeeded
    paid = outcome.amount_cents
    view = cards_profile(qtbot, desk)
    tab = view.cards
    payment_id = outcome.payment_id
    assert payment_id is not None

    # Part of it back to the card: taken back off the invoice it paid.
    dialog = open_refund(qtbot, tab, payment_id)
    assert dialog.subtitle.text().endswith(f"{money(paid)} can still be refunded")
    type_into(qtbot, dialog, "Amount", "20.00")
    assert dialog.preview.text().startswith("Refunds $20.00: $20.00 unapplied from ")
    click(qtbot, dialog, "Refund to card")
    wait_closed(qtbot, desk.ctx, dialog)
    wait_idle(qtbot, desk.ctx)
    assert desk.balance()[0] == 2000
    row = refreshed(desk, payment_id)
    assert (row.refunded_cents, row.applied_cents) == (2000, paid - 2000)
    assert tab.banner.text().startswith("Refunded $20.00 to the card.")
    assert header(view)[0] == money(2000)

    # More than is left is refused by the service, with its reason.
    dialog = open_refund(qtbot, tab, payment_id)
    type_into(qtbot, dialog, "Amount", money(paid).lstrip("$"))
    click(qtbot, dialog, "Refund to card")
    qtbot.waitUntil(lambda: dialog.amount.error.isVisible(), timeout=10_000)
    assert dialog.amount.error.text().startswith(f"Only {money(paid - 2000)} of this payment")

    # Some to the patient's account credit instead: no money moves at Stripe.
    click(qtbot, dialog, "To account credit")
    type_into(qtbot, dialog, "Amount", "10.00")
    assert "becomes the patient's account credit" in dialog.rule.text()
    assert dialog.preview.text().startswith("Moves $10.00: $10.00 unapplied from ")
    owing_before, credit_before = desk.balance()
    click(qtbot, dialog, "Refund to credit")
    wait_closed(qtbot, desk.ctx, dialog)
    wait_idle(qtbot, desk.ctx)
    assert desk.balance() == (owing_before + 1000, credit_before + 1000)
    row = refreshed(desk, payment_id)
    assert (row.refunded_cents, row.unapplied_cents) == (2000, 1000)
    assert tab.banner.text().startswith("$10.00 is now account credit.")


def open_refund(qtbot: QtBot, tab: CardsTab, payment_id: uuid.UUID) -> CardRefundDialog:
    select_row(tab.payment_table, payment_id)
    return open_with(qtbot, tab, "Refund…", CardRefundDialog)


def refreshed(desk: CardDesk, payment_id: uuid.UUID) -> CardPaymentRow:
    rows = desk.services.card_payments.card_payments_for_patient(desk.desk, desk.patient_id)
    return next(r for r in rows if r.id == payment_id)


def test_topping_up_with_a_card_shows_as_available_credit(
    qtbot: QtBot, card_desk: CardDesk
) -> None:
    desk = card_desk
    desk.add_card()
    owing, credit = desk.balance()
    view = cards_profile(qtbot, desk)
    dialog = open_with(qtbot, view.cards, "Top up credit…", TopUpDialog)
    assert dialog.card.currentText() == "Visa •••• 4242, expires 12/2030"
    type_into(qtbot, dialog, "Amount", "50")
    click(qtbot, dialog, "Top up credit")
    wait_closed(qtbot, desk.ctx, dialog)
    wait_idle(qtbot, desk.ctx)

    assert desk.balance() == (owing, credit + 5000)
    assert header(view) == (money(owing), money(credit + 5000))
    [payment] = desk.services.card_payments.card_payments_for_patient(desk.desk, desk.patient_id)
    assert (payment.amount_cents, payment.applied_cents, payment.collected_by) == (
        5000, 0, "Sam Lee at DESK1")
    assert view.cards.banner.text() == "Charged $50.00 to the card. $50.00 is now account credit."


def test_an_expired_card_is_flagged_and_not_offered_for_charging(
    qtbot: QtBot, card_desk: CardDesk
) -> None:
    card_desk.add_card(exp_month=3, exp_year=2025)
    view = cards_profile(qtbot, card_desk)
    cards = view.cards.cards
    status = cards.index(0, cards.STATUS)
    assert (cards.index(0, cards.EXPIRES).data(), status.data()) == ("03/2025", "Expired")
    assert status.data(Qt.ItemDataRole.ForegroundRole) == EXPIRED_COLOUR
    assert status.data(Qt.ItemDataRole.FontRole).bold()
    button = named(view.cards, QPushButton, "Charge card…")
    assert not button.isEnabled()
    assert button.toolTip() == "There is no card on file that can be charged: add one first."


def test_card_actions_wait_for_a_payment_account(qtbot: QtBot, view_ctx: ViewContext,
                                                 maddy_id: uuid.UUID) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, CARDS_TAB)
    for label in ("Charge card…", "Top up credit…", "Add card…"):
        button = named(view.cards, QPushButton, label)
        assert not button.isEnabled()
        assert button.toolTip() == NO_ACCOUNT == (
            "Set up a payment account in Clinic ▸ Payment accounts first")
