"""Text Reminder / Email Reminder: a custom message, a live preview of exactly what is sent,
and Send. The greeting ("Hello, Maddy") is already in the message."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextBrowser, QWidget

from desk_app.models.billing_notices import NoticeChannel, NoticeKind
from desk_app.services.billing_notices import NoticeDraft
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog

PREVIEW_DELAY_MS = 150


class ReminderDialog(ActionDialog):
    """Submits the custom message (a str). Emits `preview_wanted(str)` as it is typed; the
    tab answers with `show_preview` (or `preview_failed`)."""

    preview_wanted = Signal(str)

    def __init__(self, channel: NoticeChannel, kind: NoticeKind, recipient: str,
                 greeting: str, parent: QWidget | None = None) -> None:
        texting = channel is NoticeChannel.TEXT
        title = {(True, NoticeKind.BALANCE): "Text Reminder",
                 (False, NoticeKind.BALANCE): "Email Reminder"}.get(
            (texting, kind), "Credit top-up link")
        super().__init__(
            title, "Send",
            f"To {recipient}. “{greeting}” is already included; add a message if you like. "
            "The payment link is made when you press Send.", parent)
        self.channel = channel
        self.kind = kind
        self.setMinimumWidth(560)
        self.message = QPlainTextEdit()
        self.message.setPlaceholderText("Thanks for coming in today!")
        self.message.setFixedHeight(70 if texting else 110)
        self.message.setTabChangesFocus(True)
        self.add_field("Message:", self.message, "custom_message")
        self.preview: QPlainTextEdit | QTextBrowser
        if texting:
            self.preview = QPlainTextEdit()
            self.preview.setReadOnly(True)
            self.preview.setFixedHeight(120)
        else:
            self.preview = QTextBrowser()
            self.preview.setOpenLinks(False)
            self.preview.setMinimumHeight(300)
        self.preview.setStyleSheet("background: #f6f8f9;")
        self.add_field("Preview:", self.preview)
        self.fits = QLabel("")
        self.fits.setObjectName("muted")
        self.fits.setWordWrap(True)
        a11y.name(self.fits, "Message length")
        self.body.addWidget(self.fits)
        self.first_input = self.message
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(lambda: self.preview_wanted.emit(self.custom_message))
        self.message.textChanged.connect(self._timer.start)
        self.draft: NoticeDraft | None = None

    @property
    def custom_message(self) -> str:
        return self.message.toPlainText()

    def request_preview(self) -> None:
        self.preview_wanted.emit(self.custom_message)

    def show_preview(self, draft: NoticeDraft) -> None:
        self.draft = draft
        self.clear_errors()
        if isinstance(self.preview, QTextBrowser):
            self.preview.setHtml(draft.html)
            self.fits.setText(f"Subject: {draft.subject}. Sent with a plain-text copy.")
        else:
            self.preview.setPlainText(draft.text)
            texts = "1 text message" if draft.segments == 1 else f"{draft.segments} text messages"
            self.fits.setText(f"{len(draft.text)} characters: {texts} (at most 2)."
                              + (f" {draft.link_note}" if draft.link_note else ""))
        if not self._busy:
            self.action_button.setEnabled(True)

    def preview_failed(self, error: BaseException) -> None:
        self.draft = None
        self.refuse(error)
        self.action_button.setEnabled(False)

    def collect(self) -> str | None:
        return self.custom_message
