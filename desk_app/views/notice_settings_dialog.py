"""Clinic ▸ Billing notices… (Full Access): partial payments by link, how long links stay
open (Stripe allows 30 minutes to 24 hours), the link shortener texts use, and the clinic's
own message templates (the HTML email in its own editor with a preview)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desk_app.services.billing_notices import (
    MAX_EXPIRY_MINUTES,
    MIN_EXPIRY_MINUTES,
    NoticeSettingsInfo,
)
from desk_app.services.notice_messages import bundled_template
from desk_app.views import a11y
from desk_app.views.html_template_dialog import HtmlTemplateDialog
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.background import submit_from
from desk_app.views.view_context import ViewContext

PARTIAL_LABEL = "Let patients pay part of their balance by link"
HTML_BUTTON = "Edit HTML email…"
TOKEN_STORED = "Stored on this computer; type a new one to replace it"
TOKEN_MISSING = "Not stored on this computer"


class NoticeSettingsDialog(ActionDialog):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(
            "Billing notice settings", "Save",
            "How pay-balance links behave, and what texts and emails say. Leave a template "
            "empty to use the standard one (shown greyed).", parent)
        self.ctx = ctx
        self.setMinimumWidth(660)
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

        shortener = QLabel("Short links for texts: Stripe's payment links are too long for a "
                           "text, so texts carry a short link from a Bitly-compatible service.")
        shortener.setObjectName("muted")
        shortener.setWordWrap(True)
        self.form.addRow(shortener)
        self.shortener_url = QLineEdit()
        self.shortener_url.setPlaceholderText("https://api-ssl.bitly.com")
        self.add_field("Shortener API address:", self.shortener_url, "shortener_base_url")
        self.shortener_domain = QLineEdit()
        self.shortener_domain.setPlaceholderText("bit.ly, or your own short domain")
        self.shortener_domain.setMaximumWidth(320)
        self.add_field("Short domain:", self.shortener_domain, "shortener_domain")
        self.shortener_token = QLineEdit()
        self.shortener_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.shortener_token.setPlaceholderText(TOKEN_MISSING)
        self.add_field("Access token:", self.shortener_token, "shortener_token")

        self.text_template = QPlainTextEdit()
        self.text_template.setPlaceholderText(bundled_template("text.txt"))
        self.text_template.setFixedHeight(80)
        self.text_template.setTabChangesFocus(True)
        self.add_field("Text template:", self.text_template, "template")
        self.email_template = QPlainTextEdit()
        self.email_template.setPlaceholderText(bundled_template("email.txt"))
        self.email_template.setFixedHeight(150)
        self.email_template.setTabChangesFocus(True)
        self.add_field("Email template:", self.email_template)
        self.html_state = QLabel("")
        a11y.name(self.html_state, "HTML email in use")
        self.html_button = QPushButton(HTML_BUTTON)
        a11y.button_named(self.html_button)
        self.html_button.setAutoDefault(False)
        self.html_button.clicked.connect(lambda: _ignore(self.open_html_editor()))
        html_row = QWidget()
        html_layout = QHBoxLayout(html_row)
        html_layout.setContentsMargins(0, 0, 0, 0)
        html_layout.addWidget(self.html_state, 1)
        html_layout.addWidget(self.html_button)
        self.add_field("HTML email:", html_row, "email_html_template")
        hint = QLabel("Placeholders: ${greeting} ${custom_message} ${clinic} ${what} "
                      "${what_sentence} ${amount} ${link} ${expires} ${clinic_contact}. "
                      "A text must fit in two SMS messages with its link.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.body.addWidget(hint)
        self.html_template = ""
        self._show_html_state()
        self.first_input = self.expiry
        self.action_button.setEnabled(False)
        notices, actor = ctx.services.billing_notices, ctx.actor
        ctx.tasks.db(lambda: notices.settings(actor), self._loaded, self.refuse, owner=self)
        self.submitted.connect(self._save)

    def _loaded(self, info: NoticeSettingsInfo) -> None:
        self.version = info.version or None
        self.partial.setChecked(info.allow_partial_payment)
        self.expiry.setValue(info.link_expiry_minutes)
        self.shortener_url.setText(info.shortener_base_url)
        self.shortener_domain.setText(info.shortener_domain)
        self.shortener_token.setPlaceholderText(
            TOKEN_STORED if info.shortener_token_stored else TOKEN_MISSING)
        self.text_template.setPlainText(info.text_template)
        self.email_template.setPlainText(info.email_text_template)
        self.html_template = info.email_html_template
        self._show_html_state()
        self.action_button.setEnabled(True)

    def _show_html_state(self) -> None:
        self.html_state.setText(
            f"Your clinic's own ({len(self.html_template):,} characters)" if self.html_template
            else "The standard email")

    def open_html_editor(self) -> HtmlTemplateDialog:
        dialog = HtmlTemplateDialog(self.ctx, self.html_template, self)
        dialog.chosen.connect(self._html_chosen)
        dialog.open()
        return dialog

    def _html_chosen(self, template: str) -> None:
        self.html_template = template
        self._show_html_state()
        self.show_field_error("email_html_template", "")

    def collect(self) -> object | None:
        return True

    def _save(self, _request: object) -> None:
        notices, actor = self.ctx.services.billing_notices, self.ctx.actor
        partial, minutes = self.partial.isChecked(), self.expiry.value()
        text, email, html = (self.text_template.toPlainText(),
                             self.email_template.toPlainText(), self.html_template)
        base, domain = self.shortener_url.text(), self.shortener_domain.text()
        token = self.shortener_token.text() or None
        version = self.version
        submit_from(self.ctx, self.parent() or self, self, lambda: notices.update_settings(
            actor, allow_partial_payment=partial, link_expiry_minutes=minutes,
            text_template=text, email_text_template=email, email_html_template=html,
            shortener_base_url=base, shortener_domain=domain, shortener_token=token,
            version=version), lambda _info: None)


def _ignore(_value: object) -> None:
    """A button's slot returns nothing (the dialog it opened is for tests to reach)."""
