"""Clinic ▸ Billing notices ▸ Edit HTML email…: the clinic's own HTML email, with a live
preview filled in for a made-up patient, and Reset to standard.

The dialog only edits: "Use this" checks the template (unknown placeholders are refused, each
named) and hands it back; the settings window saves it with the rest.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QWidget,
)

from desk_app.services.notice_messages import bundled_template
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.view_context import ViewContext

PREVIEW_DELAY_MS = 250
RESET_LABEL = "Reset to standard"


class HtmlTemplateDialog(ActionDialog):
    """Emits `chosen(str)`: the template to save ("" for the standard one)."""

    chosen = Signal(str)

    def __init__(self, ctx: ViewContext, template: str, parent: QWidget | None = None) -> None:
        super().__init__(
            "HTML email", "Use this",
            "The email patients see. Placeholders like ${amount} and ${link} are filled in "
            "when it is sent; the preview shows it for a made-up patient.", parent)
        self.ctx = ctx
        self.setMinimumSize(980, 640)
        self.standard = bundled_template("email.html")
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        self.editor.setPlainText(template.strip() or self.standard)
        a11y.name(self.editor, "HTML template")
        self.preview = QTextBrowser()
        self.preview.setOpenLinks(False)
        self.preview.setStyleSheet("background: #f6f8f9;")
        a11y.name(self.preview, "Preview")
        splitter = QSplitter()
        splitter.addWidget(self.editor)
        splitter.addWidget(self.preview)
        splitter.setSizes([480, 440])
        splitter.setMinimumHeight(420)
        self.add_field("HTML template:", splitter, "email_html_template")
        self.state = QLabel("")
        self.state.setObjectName("muted")
        a11y.name(self.state, "Template in use")
        self.reset_button = QPushButton(RESET_LABEL)
        a11y.button_named(self.reset_button)
        self.reset_button.setAutoDefault(False)
        self.reset_button.clicked.connect(self.reset_to_standard)
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.reset_button)
        self.body.addLayout(row)
        self.first_input = self.editor
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.refresh_preview)
        self.editor.textChanged.connect(self._changed)
        self._changed()
        self.refresh_preview()
        self.submitted.connect(self._check_and_use)

    @property
    def template(self) -> str:
        """What would be saved: "" when it is the standard template."""
        text = self.editor.toPlainText()
        return "" if text.strip() == self.standard.strip() else text

    def reset_to_standard(self) -> None:
        self.editor.setPlainText(self.standard)

    def _changed(self) -> None:
        standard = self.template == ""
        self.state.setText("The standard email." if standard else "Your clinic's own email.")
        self.reset_button.setEnabled(not standard)
        self._timer.start()

    def refresh_preview(self) -> None:
        notices, actor, text = self.ctx.services.billing_notices, self.ctx.actor, self.template

        def shown(html: str) -> None:
            self.clear_errors()
            self.preview.setHtml(html)
            if not self._busy:
                self.action_button.setEnabled(True)

        def refused(error: BaseException) -> None:
            self.refuse(error)
            self.action_button.setEnabled(False)

        self.ctx.tasks.db(lambda: notices.sample_email_html(actor, text), shown, refused,
                          owner=self)

    def collect(self) -> object | None:
        return self.template

    def _check_and_use(self, request: object) -> None:
        text = str(request)
        notices, actor = self.ctx.services.billing_notices, self.ctx.actor

        def fine(_html: str) -> None:
            self.chosen.emit(text)
            self.finish()

        self.ctx.tasks.db(lambda: notices.sample_email_html(actor, text), fine, self.refuse,
                          owner=self)
