"""Clinic ▸ Billing notices… (Full Access): partial payments by link, how long links stay
open (Stripe allows 30 minutes to 24 hours), and the clinic's own message templates."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QPlainTextEdit, QSpinBox, QWidget

from desk_app.services.billing_notices import (
    MAX_EXPIRY_MINUTES,
    MIN_EXPIRY_MINUTES,
    NoticeSettingsInfo,
)
from desk_app.services.notice_messages import bundled_template
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.background import submit_from
from desk_app.views.view_context import ViewContext

PARTIAL_LABEL = "Let patients pay part of their balance by link"


class NoticeSettingsDialog(ActionDialog):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(
            "Billing notice settings", "Save",
            "How pay-balance links behave, and what texts and emails say. Leave a template "
            "empty to use the standard one (shown greyed).", parent)
        self.ctx = ctx
        self.setMinimumWidth(620)
        self.version: int | None = None
        self.partial = QCheckBox(PARTIAL_LABEL)
        a11y.name(self.partial, PARTIAL_LABEL)
        self.form.addRow(self.partial)
        self.expiry = QSpinBox()
        self.expiry.setRange(MIN_EXPIRY_MINUTES, MAX_EXPIRY_MINUTES)
        self.expiry.setSingleStep(30)
        self.expiry.setSuffix(" minutes")
        self.expiry.setMaximumWidth(180)
        self.add_field("Links expire after:", self.expiry, "link_expiry_minutes")
        self.text_template = QPlainTextEdit()
        self.text_template.setPlaceholderText(bundled_template("text.txt"))
        self.text_template.setFixedHeight(80)
        self.text_template.setTabChangesFocus(True)
        self.add_field("Text template:", self.text_template, "template")
        self.email_template = QPlainTextEdit()
        self.email_template.setPlaceholderText(bundled_template("email.txt"))
        self.email_template.setFixedHeight(170)
        self.email_template.setTabChangesFocus(True)
        self.add_field("Email template:", self.email_template)
        hint = QLabel("Placeholders: ${greeting} ${custom_message} ${clinic} ${what} "
                      "${what_sentence} ${amount} ${link} ${expires} ${clinic_contact}. "
                      "A text must fit in two SMS messages with its link.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.body.addWidget(hint)
        self.html_template = ""
        self.first_input = self.expiry
        self.action_button.setEnabled(False)
        notices, actor = ctx.services.billing_notices, ctx.actor
        ctx.tasks.db(lambda: notices.settings(actor), self._loaded, self.refuse, owner=self)
        self.submitted.connect(self._save)

    def _loaded(self, info: NoticeSettingsInfo) -> None:
        self.version = info.version or None
        self.partial.setChecked(info.allow_partial_payment)
        self.expiry.setValue(info.link_expiry_minutes)
        self.text_template.setPlainText(info.text_template)
        self.email_template.setPlainText(info.email_text_template)
        self.html_template = info.email_html_template
        self.action_button.setEnabled(True)

    def collect(self) -> object | None:
        return True

    def _save(self, _request: object) -> None:
        notices, actor = self.ctx.services.billing_notices, self.ctx.actor
        partial, minutes = self.partial.isChecked(), self.expiry.value()
        text, email, html = (self.text_template.toPlainText(),
                             self.email_template.toPlainText(), self.html_template)
        version = self.version
        submit_from(self.ctx, self.parent() or self, self, lambda: notices.update_settings(
            actor, allow_partial_payment=partial, link_expiry_minutes=minutes,
            text_template=text, email_text_template=email, email_html_template=html,
            version=version), lambda _info: None)
