"""The Billing notices tab as a receptionist uses it: the Text Reminder window, its live
preview, Send, and the history row; a paid link learnt with Check now."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QTextBrowser, QWidget
from pytestqt.qtbot import QtBot

from desk_app.models import NoticeStatus, Patient
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.invoice_link_action import ACTION_LABEL, invoice_menu
from desk_app.views.profile.notice_models import NoticeHistoryModel
from desk_app.views.profile.reminder_dialog import ReminderDialog
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import (
    click,
    named,
    open_dialog,
    open_profile,
    select_row,
    wait_closed,
)
from tests.gui.notices.conftest import NoticeDesk
from tests.notice_fixtures import SHORT_DOMAIN, SHORTENER_TOKEN, ShortenerApi

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


def test_email_reminder_window_shows_the_email_as_it_will_look(
        qtbot: QtBot, notice_desk: NoticeDesk, tmp_path: Path) -> None:
    desk = notice_desk
    view = open_profile(qtbot, desk.ctx, desk.patient_id, TAB)
    click(qtbot, view.notices, "Email Reminder…")
    dialog = open_dialog(qtbot, view.notices, ReminderDialog)
    assert isinstance(dialog.preview, QTextBrowser)
    qtbot.waitUntil(lambda: "Hello, Maddy" in dialog.preview.toPlainText(), timeout=5_000)
    assert "Pay $120.00" in dialog.preview.toPlainText()
    assert dialog.fits.text().startswith("Subject: Your balance at Maple Grove Wellness")
    assert unnamed_controls(dialog) == []
    dialog.resize(dialog.width(), 640)
    assert dialog.grab().save(str(shots_dir(tmp_path) / "email-reminder.png"))
    dialog.reject()


def test_one_time_payment_link_from_the_invoice_menu_confirms_in_green(
        qtbot: QtBot, notice_desk: NoticeDesk) -> None:
    desk = notice_desk
    view = open_profile(qtbot, desk.ctx, desk.patient_id, "Billing")
    billing = view.billing
    owing = next(i for i in billing.invoices.rows if i.balance_cents > 0)
    select_row(billing.invoice_table, owing.id)
    menu = invoice_menu(billing, lambda _row: None)
    (action,) = [a for a in menu.actions() if a.text() == ACTION_LABEL]
    assert action.isEnabled()
    action.trigger()
    wait_idle(qtbot, desk.ctx)
    qtbot.waitUntil(lambda: "1-time payment link" in billing.banner.text(), timeout=10_000)
    assert billing.banner.text() == (
        f"1-time payment link for {owing.number} sent to "
        "madeleine.odegardnguyen0@mail.example.")
    (message,) = desk.smtp.inbox.messages
    assert message["Subject"] == "Maple Grove Wellness"
    assert message["From"].addresses[0].display_name == "Sam Lee"


def test_one_time_payment_link_is_off_without_the_billing_permission(
        qtbot: QtBot, notice_desk: NoticeDesk, demo_db: object) -> None:
    from tests.db_fixtures import actor_named
    from tests.gui.conftest import signed_in

    desk = notice_desk
    ctx = signed_in(desk.services, actor_named(demo_db, "frontdesk2"), desk.ctx.tasks)  # type: ignore[arg-type]
    view = open_profile(qtbot, ctx, desk.patient_id, "Billing")
    owing = next(i for i in view.billing.invoices.rows if i.balance_cents > 0)
    select_row(view.billing.invoice_table, owing.id)
    (action,) = invoice_menu(view.billing, lambda _row: None).actions()
    assert not action.isEnabled() and "Billing permission" in action.toolTip()


def test_clinic_billing_notice_settings_are_saved(qtbot: QtBot, notice_desk: NoticeDesk,
                                                  demo_db: object, tmp_path: Path,
                                                  shortener_api: ShortenerApi) -> None:
    from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox

    from desk_app.views.notice_settings_dialog import (
        PARTIAL_LABEL,
        TOKEN_STORED,
        NoticeSettingsDialog,
    )
    from tests.db_fixtures import actor_named
    from tests.gui.conftest import signed_in

    desk = notice_desk
    owner = actor_named(demo_db, "owner")  # type: ignore[arg-type]
    ctx = signed_in(desk.services, owner, desk.ctx.tasks)
    dialog = NoticeSettingsDialog(ctx)  # deletes itself on close
    dialog.show()
    qtbot.waitUntil(lambda: dialog.action_button.isEnabled(), timeout=5_000)
    assert unnamed_controls(dialog) == []
    named(dialog, QCheckBox, PARTIAL_LABEL).setChecked(True)
    named(dialog, QSpinBox, "Links expire after").setValue(90)
    named(dialog, QLineEdit, "Shortener API address").setText("https://api-ssl.bitly.com")
    named(dialog, QLineEdit, "Short domain").setText("go.maplegrove.example")
    named(dialog, QLineEdit, "Access token").setText(SHORTENER_TOKEN)
    dialog.resize(dialog.sizeHint())
    assert dialog.grab().save(str(shots_dir(tmp_path) / "notice-settings.png"))
    click(qtbot, dialog, "Save")
    wait_idle(qtbot, ctx)
    wait_closed(qtbot, ctx, dialog)
    saved = desk.services.billing_notices.settings(owner)
    assert saved.allow_partial_payment and saved.link_expiry_minutes == 90
    assert saved.shortener_base_url == "https://api-ssl.bitly.com"
    assert saved.shortener_domain == "go.maplegrove.example" and saved.shortener_token_stored

    again = NoticeSettingsDialog(ctx)
    again.show()
    qtbot.waitUntil(lambda: again.action_button.isEnabled(), timeout=5_000)
    token = named(again, QLineEdit, "Access token")
    assert token.text() == "" and token.placeholderText() == TOKEN_STORED
    again.reject()


def test_the_html_email_is_edited_previewed_checked_and_reset(
        qtbot: QtBot, notice_desk: NoticeDesk, demo_db: object, tmp_path: Path) -> None:
    from desk_app.views.html_template_dialog import RESET_LABEL, HtmlTemplateDialog
    from desk_app.views.notice_settings_dialog import HTML_BUTTON, NoticeSettingsDialog
    from tests.db_fixtures import actor_named
    from tests.gui.conftest import signed_in

    desk = notice_desk
    owner = actor_named(demo_db, "owner")  # type: ignore[arg-type]
    ctx = signed_in(desk.services, owner, desk.ctx.tasks)
    settings = NoticeSettingsDialog(ctx)
    settings.show()
    qtbot.waitUntil(lambda: settings.action_button.isEnabled(), timeout=5_000)
    assert settings.html_state.text() == "The standard email"
    click(qtbot, settings, HTML_BUTTON)
    editor = open_dialog(qtbot, settings, HtmlTemplateDialog)
    assert unnamed_controls(editor) == []
    qtbot.waitUntil(lambda: "Hello, Maddy" in editor.preview.toPlainText(), timeout=5_000)
    assert not named(editor, QPushButton, RESET_LABEL).isEnabled()

    # A placeholder that does not exist is refused, by name, and Use this is off.
    editor.editor.setPlainText(editor.standard.replace("${amount}", "${total} ${patient_name}"))
    qtbot.waitUntil(lambda: "${total}, ${patient_name}" in editor.error.text()
                    or "${total}, ${patient_name}" in _field_error_text(editor), timeout=5_000)
    assert not editor.action_button.isEnabled()

    # The clinic's own words, previewed as they will look.
    own = editor.standard.replace("${greeting}", "${greeting}! A note from the front desk")
    editor.editor.setPlainText(own)
    qtbot.waitUntil(lambda: "A note from the front desk" in editor.preview.toPlainText(),
                    timeout=5_000)
    assert editor.action_button.isEnabled() and editor.state.text() == "Your clinic's own email."
    editor.resize(editor.sizeHint().expandedTo(editor.minimumSize()))
    assert editor.grab().save(str(shots_dir(tmp_path) / "html-email-template.png"))
    click(qtbot, editor, "Use this")
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: settings.html_template == own, timeout=5_000)
    assert settings.html_state.text().startswith("Your clinic's own")
    click(qtbot, settings, "Save")
    wait_idle(qtbot, ctx)
    wait_closed(qtbot, ctx, settings)
    assert desk.services.billing_notices.settings(owner).email_html_template == own.strip()

    # Reset to standard brings the standard email back and saves as "standard".
    settings = NoticeSettingsDialog(ctx)
    settings.show()
    qtbot.waitUntil(lambda: settings.action_button.isEnabled(), timeout=5_000)
    click(qtbot, settings, HTML_BUTTON)
    editor = open_dialog(qtbot, settings, HtmlTemplateDialog)
    click(qtbot, editor, RESET_LABEL)
    assert editor.template == "" and editor.state.text() == "The standard email."
    qtbot.waitUntil(lambda: editor.action_button.isEnabled(), timeout=5_000)
    click(qtbot, editor, "Use this")
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: settings.html_template == "", timeout=5_000)
    click(qtbot, settings, "Save")
    wait_idle(qtbot, ctx)
    wait_closed(qtbot, ctx, settings)
    assert desk.services.billing_notices.settings(owner).email_html_template == ""


def _field_error_text(dialog: QWidget) -> str:
    return " ".join(label.text() for label in dialog.findChildren(QLabel) if label.isVisible())


def _use_shortener(desk: NoticeDesk, demo_db: object, api: ShortenerApi) -> None:
    from desk_app.services.link_shortener import LinkShortener
    from desk_app.services.secret_store import KeyringSecretStore
    from tests.db_fixtures import actor_named

    notices = desk.services.billing_notices
    notices.shortener = LinkShortener(KeyringSecretStore(), sleep=lambda _s: None)
    notices.update_settings(actor_named(demo_db, "owner"),  # type: ignore[arg-type]
                            allow_partial_payment=False, link_expiry_minutes=1440,
                            shortener_base_url=api.url, shortener_domain=SHORT_DOMAIN,
                            shortener_token=SHORTENER_TOKEN)


def test_a_text_with_a_real_length_link_goes_with_a_short_link_previewed_at_its_length(
        qtbot: QtBot, notice_desk: NoticeDesk, demo_db: object, tmp_path: Path,
        shortener_api: ShortenerApi) -> None:
    desk = notice_desk
    desk.checkout.realistic_urls = True
    _use_shortener(desk, demo_db, shortener_api)
    view = open_profile(qtbot, desk.ctx, desk.patient_id, TAB)
    click(qtbot, view.notices, "Text Reminder…")
    dialog = open_dialog(qtbot, view.notices, ReminderDialog)
    stand_in = f"https://{SHORT_DOMAIN}/xxxxxxx"
    qtbot.waitUntil(lambda: stand_in in _preview_text(dialog), timeout=5_000)
    assert "short link is made when you press Send" in dialog.fits.text()
    dialog.message.setPlainText("Thanks for coming in today!")
    qtbot.waitUntil(lambda: "Thanks for coming in today!" in _preview_text(dialog),
                    timeout=5_000)
    dialog.resize(dialog.sizeHint())
    assert dialog.grab().save(str(shots_dir(tmp_path) / "text-reminder.png"))
    click(qtbot, dialog, "Send")
    wait_closed(qtbot, desk.ctx, dialog)
    wait_idle(qtbot, desk.ctx)
    (request,) = desk.sms.requests
    (short,) = shortener_api.links
    assert short in request.form["Body"] and "#fid" not in request.form["Body"]
    assert view.notices.history.rows[0].status is NoticeStatus.SENT


def test_without_a_shortener_long_links_turn_the_text_reminder_off_and_say_why(
        qtbot: QtBot, notice_desk: NoticeDesk, tmp_path: Path) -> None:
    desk = notice_desk
    desk.services.billing_notices.checkout_link_length = 400  # real Stripe's
    view = open_profile(qtbot, desk.ctx, desk.patient_id, TAB)
    button = view.notices.text_button
    qtbot.waitUntil(lambda: "link shortener" in button.toolTip(), timeout=5_000)
    assert not button.isEnabled()
    assert "Clinic ▸ Billing notices" in view.notices.why_not.text()
    assert view.notices.email_button.isEnabled()
    assert view.grab().save(str(shots_dir(tmp_path) / "text-reminder-needs-shortener.png"))


def test_the_bell_polls_links_and_lists_the_payment_notification(
        qtbot: QtBot, notice_desk: NoticeDesk, demo_db: object, tmp_path: Path) -> None:
    from desk_app.models import BillingNotice, NoticeChannel
    from desk_app.views.main_window import MainWindow
    from tests.db_fixtures import actor_named
    from tests.gui.conftest import signed_in

    desk = notice_desk
    row = desk.services.billing_notices.send_balance_reminder(
        desk.ctx.actor, desk.patient_id, NoticeChannel.TEXT)
    with desk.services.db.reading() as s:
        desk.checkout.pay(s.get_one(BillingNotice, row.id).stripe_checkout_session_id)
    owner = actor_named(demo_db, "owner")  # type: ignore[arg-type]
    ctx = signed_in(desk.services, owner, desk.ctx.tasks)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    wait_idle(qtbot, ctx)
    assert window.bell.text() == "Notifications"
    window.bell.poll()
    qtbot.waitUntil(lambda: window.bell.unread == 1, timeout=10_000)
    assert window.bell.text() == "Notifications (1)"
    assert window.bell.accessibleName() == window.bell.text()
    assert window.bell.rows[0].title.endswith("paid $120.00 online")
    assert window.grab().save(str(shots_dir(tmp_path) / "main-window-bell.png"))
    window.bell.mark_all_read()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: window.bell.unread == 0, timeout=5_000)
    window.close()
