"""The Billing notices tab as a receptionist uses it: the Text Reminder window, its live
preview, Send, and the history row; a paid link learnt with Check now."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot

from desk_app.models import NoticeStatus, Patient
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.notice_models import NoticeHistoryModel
from desk_app.views.profile.reminder_dialog import ReminderDialog
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import click, named, open_dialog, open_profile, wait_closed
from tests.gui.notices.conftest import NoticeDesk

pytestmark = pytest.mark.gui

TAB = "Billing notices"
#: DESK_SCREENSHOTS=docs/screenshots refreshes the documentation's pictures.
SHOTS_ENV = "DESK_SCREENSHOTS"


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _preview_text(dialog: ReminderDialog) -> str:
    assert isinstance(dialog.preview, QPlainTextEdit)
    return dialog.preview.toPlainText()


def test_text_reminder_window_previews_sends_and_lists_the_notice(
        qtbot: QtBot, notice_desk: NoticeDesk, tmp_path: Path) -> None:
    desk = notice_desk
    shots = shots_dir(tmp_path)
    view = open_profile(qtbot, desk.ctx, desk.patient_id, TAB)
    tab = view.notices
    assert tab.owing_label.text().startswith("Outstanding balance: $")
    click(qtbot, tab, "Text Reminder…")
    dialog = open_dialog(qtbot, tab, ReminderDialog)
    qtbot.waitUntil(lambda: _preview_text(dialog).startswith("Hello, Maddy."), timeout=5_000)
    assert unnamed_controls(dialog) == []

    qtbot.keyClicks(named(dialog, QPlainTextEdit, "Message"), "Thanks for coming in today!")
    qtbot.waitUntil(lambda: "Thanks for coming in today!" in _preview_text(dialog),
                    timeout=5_000)
    assert "1 text message" in dialog.fits.text() or "2 text messages" in dialog.fits.text()
    dialog.resize(dialog.sizeHint())
    assert dialog.grab().save(str(shots / "text-reminder.png"))

    click(qtbot, dialog, "Send")
    wait_closed(qtbot, desk.ctx, dialog)
    wait_idle(qtbot, desk.ctx)

    (request,) = desk.sms.requests
    assert request.form["Body"].startswith("Hello, Maddy. Thanks for coming in today!")
    assert "Text" in tab.banner.text() or "sent" in tab.banner.text()
    (row,) = tab.history.rows
    assert row.status is NoticeStatus.SENT
    assert tab.history.cell(row, NoticeHistoryModel.CHANNEL) == "Text"
    assert tab.history.cell(row, NoticeHistoryModel.TO) == "+14165550123"
    assert tab.history.cell(row, NoticeHistoryModel.STATUS) == "Sent"
    assert tab.history.cell(row, NoticeHistoryModel.BY) == "Sam Lee"
    assert unnamed_controls(view) == []
    assert view.grab().save(str(shots / "billing-notices-tab.png"))

    # The patient pays on their phone; Check now records it and the balance moves.
    notice = desk.services.billing_notices.history(desk.ctx.actor, desk.patient_id)[0]
    with desk.services.db.reading() as s:
        from desk_app.models import BillingNotice

        session_id = s.get_one(BillingNotice, notice.id).stripe_checkout_session_id
    desk.checkout.pay(session_id)
    click(qtbot, tab, "Check now")
    wait_idle(qtbot, desk.ctx)
    qtbot.waitUntil(lambda: tab.history.rows[0].status is NoticeStatus.PAID, timeout=10_000)
    assert tab.owing_label.text() == "Outstanding balance: $0.00"


def test_text_reminder_is_off_and_says_why_without_consent(
        qtbot: QtBot, notice_desk: NoticeDesk) -> None:
    desk = notice_desk
    with desk.services.db.transaction() as s:
        s.get_one(Patient, desk.patient_id).consent_texts = False
    view = open_profile(qtbot, desk.ctx, desk.patient_id, TAB)
    button = view.notices.text_button
    assert not button.isEnabled()
    assert "has not agreed to receive texts" in button.toolTip()
    assert "has not agreed to receive texts" in view.notices.why_not.text()
