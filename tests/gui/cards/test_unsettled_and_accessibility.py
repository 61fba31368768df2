"""The "being checked with Stripe" banner, and accessible names on every card control."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from desk_app.models import AttemptPurpose, AttemptStatus, ChargeAttempt
from desk_app.services.card_payments import WholeBalance
from desk_app.services.clock import FixedClock
from desk_app.views.a11y import unnamed_controls
from desk_app.views.card_reconcile import reconcile_at_startup
from desk_app.views.main_window import MainWindow
from desk_app.views.payment_account_form import PaymentAccountForm
from desk_app.views.payment_accounts_dialog import PaymentAccountsDialog
from desk_app.views.profile.add_card_dialog import AddCardDialog
from desk_app.views.profile.card_refund_dialog import CardRefundDialog
from desk_app.views.profile.charge_dialog import ChargeDialog
from desk_app.views.profile.top_up_dialog import TopUpDialog
from tests.gui.cards.conftest import CardDesk
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers_profile import click, open_dialog, open_profile, open_with, select_row

pytestmark = pytest.mark.gui

CARDS_TAB = "Cards && charges"


def assert_all_named(root: QWidget) -> None:
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
               for w in unnamed_controls(root)]
    assert missing == []


def lose_a_charge(desk: CardDesk) -> None:
    """A charge whose answer was lost (the fault tests make these for real)."""
    card = desk.add_card()
    with desk.services.db.transaction() as s:
        s.add(ChargeAttempt(
            clinic_id=desk.desk.clinic_id, patient_id=desk.patient_id,
            payment_account_id=desk.account_id, card_id=card.id, amount_cents=8500,
            currency="CAD", purpose=AttemptPurpose.CHARGE, idempotency_key="fd-ch-lost",
            status=AttemptStatus.UNKNOWN, created_by_id=desk.desk.staff_id,
            workstation="DESK2"))


def test_sign_in_checks_lost_charges_and_says_so_while_some_stay_unknown(
    qtbot: QtBot, card_desk: CardDesk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    lose_a_charge(card_desk)
    window = MainWindow(card_desk.ctx)
    qtbot.addWidget(window)
    reconcile_at_startup(card_desk.ctx, window)
    wait_idle(qtbot, card_desk.ctx)
    notice = window.statusBar().findChild(QLabel, "reconcileNotice")
    assert notice is not None and notice.text() == (
        "1 card charge or refund is still being checked with Stripe; the patient's Cards & "
        "charges tab shows it.")
    assert "startup reconciliation: 1 checked, 0 succeeded, 0 failed, 1 unsettled" in caplog.text


def test_an_unsettled_charge_blocks_charging_until_check_now_settles_it(
    qtbot: QtBot, card_desk: CardDesk, clock: FixedClock
) -> None:
    desk = card_desk
    lose_a_charge(desk)
    view = open_profile(qtbot, desk.ctx, desk.patient_id, CARDS_TAB)
    tab = view.cards
    assert tab.unsettled.isVisible()
    assert tab.unsettled.text.text() == (
        "A charge of $85.00 is being checked with Stripe; this patient can't be charged "
        "again until it's settled.")
    assert not tab.charge_button.isEnabled() and "being checked" in tab.charge_button.toolTip()

    # Too soon for Stripe's silence to mean anything: still being checked.
    click(qtbot, tab, "Check now")
    wait_idle(qtbot, desk.ctx)
    assert tab.unsettled.isVisible() and tab.banner.kind == "error"

    # A few minutes on, Stripe has no trace of it: not charged; charging is back.
    clock.advance(timedelta(minutes=5))
    click(qtbot, tab, "Check now")
    wait_idle(qtbot, desk.ctx)
    qtbot.waitUntil(lambda: not tab.unsettled.isVisible(), timeout=5_000)
    assert tab.charge_button.isEnabled()
    assert tab.banner.text() == "Checked with Stripe: everything is settled."
    assert desk.stripe_charges() == []


def test_every_card_control_is_named_after_its_label(qtbot: QtBot, card_desk: CardDesk) -> None:
    desk = card_desk
    card = desk.add_card()
    outcome = desk.services.card_payments.charge_card(desk.desk, desk.patient_id, card.id,
                                                      WholeBalance())
    view = open_profile(qtbot, desk.ctx, desk.patient_id, CARDS_TAB)
    tab = view.cards
    assert_all_named(tab)

    for button, cls in (("Charge card…", ChargeDialog), ("Top up credit…", TopUpDialog)):
        dialog = open_with(qtbot, tab, button, cls)
        assert_all_named(dialog)
        dialog.reject()
        wait_idle(qtbot, desk.ctx)
    select_row(tab.payment_table, outcome.payment_id)
    refund = open_with(qtbot, tab, "Refund…", CardRefundDialog)
    assert_all_named(refund)
    refund.reject()

    add = open_with(qtbot, tab, "Add card…", AddCardDialog)
    qtbot.waitUntil(lambda: add.form_is_ready, timeout=20_000)
    assert_all_named(add)
    add.reject()
    wait_idle(qtbot, desk.ctx)

    owner_ctx = signed_in(desk.services, desk.owner, desk.ctx.tasks)
    accounts = PaymentAccountsDialog(owner_ctx)
    qtbot.addWidget(accounts)
    accounts.show()
    qtbot.waitUntil(lambda: accounts.edit_button.isEnabled(), timeout=5_000)
    assert_all_named(accounts)
    click(qtbot, accounts, "Edit…")
    form = open_dialog(qtbot, accounts, PaymentAccountForm)
    assert_all_named(form)
    form.reject()
    wait_idle(qtbot, desk.ctx)
