"""The Billing Notices panel: what is owed, Text Reminder / Email Reminder (and a credit
top-up link when the clinic allows it), Check now, and the history of notices sent."""

from __future__ import annotations

import uuid

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QWidget

from desk_app.models.billing_notices import NoticeChannel, NoticeKind, NoticeStatus
from desk_app.services.billing_notices import NoticeDraft, NoticePanel, NoticeRow
from desk_app.services.link_payments import LinkCheckReport
from desk_app.services.permissions import Permission
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.notice_models import NoticeHistoryModel
from desk_app.views.profile.reminder_dialog import ReminderDialog
from desk_app.views.profile.tab_parts import TableTab, action_button, allow
from desk_app.views.profile.table_view import profile_table
from desk_app.views.view_context import ViewContext


class NoticesTab(TableTab):
    #: A paid link was recorded: what the patient owes or holds changed.
    money_written = Signal()

    def __init__(self, ctx: ViewContext, patient_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, patient_id, parent)
        self.panel: NoticePanel | None = None
        self.history = NoticeHistoryModel(ctx.clinic.time_zone, self)
        self.history_table = profile_table(
            "Notices sent", self.history,
            {
                NoticeHistoryModel.SENT: "Nov 30, 2026 12:00 PM",
                NoticeHistoryModel.CHANNEL: "Email",
                NoticeHistoryModel.TO: "maddy.smith@example.com",
                NoticeHistoryModel.WHAT: "One-time payment link",
                NoticeHistoryModel.AMOUNT: "$10,000.00",
                NoticeHistoryModel.BY: "Jordan Reyes",
            },
            stretch=NoticeHistoryModel.STATUS,
        )
        self.owing_label = QLabel("Outstanding balance: …")
        self.owing_label.setStyleSheet("font-weight: 600; font-size: 11pt; color: #1f2a30;")
        self.text_button = action_button("Text Reminder…", lambda: _ignore(self.open_reminder(
            NoticeChannel.TEXT)))
        self.text_button.setProperty("primary", True)
        self.email_button = action_button("Email Reminder…", lambda: _ignore(self.open_reminder(
            NoticeChannel.EMAIL)))
        self.top_up_button = action_button("Credit top-up link…",
                                           lambda: _ignore(self.open_top_up()))
        self.check_button = action_button("Check now", self.check_now)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.owing_label)
        buttons.addSpacing(12)
        for button in (self.text_button, self.email_button, self.top_up_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)
        self.why_not = QLabel("")
        self.why_not.setObjectName("muted")
        self.why_not.setWordWrap(True)
        self.lay_out(buttons, [("Notices sent", self.history_table, 1)])
        layout = self.layout()
        assert isinstance(layout, QBoxLayout)
        layout.insertWidget(1, self.why_not)
        self._update_actions()

    # ----- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        notices, actor, pid = self.ctx.services.billing_notices, self.ctx.actor, self.patient_id
        self.call(lambda: notices.panel(actor, pid), self._loaded,
                  "The billing notices could not be loaded: ")

    def _loaded(self, panel: NoticePanel) -> None:
        self.panel = panel
        self.owing_label.setText(f"Outstanding balance: {panel.owing_label}")
        self.history.set_rows(panel.history)
        self._update_actions()

    def selected_id(self) -> uuid.UUID | None:
        return None

    def _update_actions(self) -> None:
        panel = self.panel
        may = self.ctx.can(Permission.TAKE_PAYMENT)
        denied = "Your role cannot send payment links."
        if panel is None:
            for button in (self.text_button, self.email_button, self.top_up_button):
                allow(button, False, "")
            self.top_up_button.setVisible(False)
            return
        allow(self.text_button, may and not panel.text_blocked,
              denied if not may else panel.text_blocked)
        allow(self.email_button, may and not panel.email_blocked,
              denied if not may else panel.email_blocked)
        self.top_up_button.setVisible(panel.top_up_enabled)
        top_up_block = "" if (panel.email or panel.mobile) else panel.email_blocked
        allow(self.top_up_button, may and not top_up_block, denied if not may else top_up_block)
        reasons = []
        if panel.text_blocked:
            reasons.append(f"Text Reminder: {panel.text_blocked}")
        if panel.email_blocked and panel.email_blocked != panel.text_blocked:
            reasons.append(f"Email Reminder: {panel.email_blocked}")
        self.why_not.setText("  ".join(reasons))
        self.why_not.setVisible(bool(reasons))

    # ----- sending ---------------------------------------------------------------------------

    def open_reminder(self, channel: NoticeChannel,
                      kind: NoticeKind = NoticeKind.BALANCE) -> ReminderDialog | None:
        panel = self.panel
        if panel is None:
            return None
        recipient = panel.mobile if channel is NoticeChannel.TEXT else panel.email
        dialog = ReminderDialog(channel, kind, recipient, panel.greeting, self)
        notices, actor, pid = self.ctx.services.billing_notices, self.ctx.actor, self.patient_id

        def preview(custom: str) -> None:
            def shown(draft: NoticeDraft) -> None:
                if shiboken6.isValid(dialog):
                    dialog.show_preview(draft)

            def failed(error: BaseException) -> None:
                if shiboken6.isValid(dialog):
                    dialog.preview_failed(error)

            self.ctx.tasks.db(lambda: notices.preview(actor, pid, channel, custom, kind),
                              shown, failed, owner=self)

        def send(custom: object) -> None:
            text = str(custom)
            if kind is NoticeKind.TOP_UP:
                def work() -> NoticeRow:
                    return notices.send_top_up_link(actor, pid, channel, text)
            else:
                def work() -> NoticeRow:
                    return notices.send_balance_reminder(actor, pid, channel, text)
            self.banner.clear_message()
            submit_from(self.ctx, self, dialog, work, self._sent, network=True)

        dialog.preview_wanted.connect(preview)
        dialog.submitted.connect(send)
        dialog.open()
        dialog.request_preview()
        return dialog

    def open_top_up(self) -> ReminderDialog | None:
        panel = self.panel
        if panel is None:
            return None
        channel = NoticeChannel.EMAIL if panel.email else NoticeChannel.TEXT
        return self.open_reminder(channel, NoticeKind.TOP_UP)

    def _sent(self, row: NoticeRow) -> None:
        if row.status is NoticeStatus.SENT:
            self.banner.show_success(f"{row.kind.label} sent to {row.recipient}.")
        elif row.status is NoticeStatus.NOT_SENT:
            self.banner.show_error(
                f"Not sent: no {'text-message' if row.channel is NoticeChannel.TEXT else 'email'}"
                " provider is configured. The message is in the outbox; the link works if "
                "you pass it on.")
        else:
            self.banner.show_error(row.status_label)
        self.reload()

    # ----- learning about payments ---------------------------------------------------------

    def check_now(self) -> None:
        links, actor, pid = self.ctx.services.link_payments, self.ctx.actor, self.patient_id
        self.check_button.setEnabled(False)

        def done(report: LinkCheckReport) -> None:
            self.check_button.setEnabled(True)
            if report.problems:
                self.banner.show_error(report.summary + " " + report.problems[0])
            else:
                self.banner.show_success(report.summary)
            if report.paid:
                self.money_written.emit()
            self.reload()

        def failed(error: BaseException) -> None:
            self.check_button.setEnabled(True)
            self.banner.show_error(message_for(error))

        self.ctx.tasks.network(lambda: links.check_open_links(actor, pid), done, failed,
                               owner=self)


def _ignore(_value: object) -> None:
    """A button's slot returns nothing (the dialog it opened is for tests to reach)."""
