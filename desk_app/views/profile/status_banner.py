"""The line at the top of a tab that says what just happened, or why it did not."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

_SUCCESS = (
    "QLabel { color: #14532d; background: #e7f6ec; border: 1px solid #a6dcb8;"
    " border-radius: 5px; padding: 6px 10px; }"
)
_ERROR = (
    "QLabel { color: #b42318; background: #fdf0ef; border: 1px solid #f1c3be;"
    " border-radius: 5px; padding: 6px 10px; }"
)
#: A confirmation fades after this long; a refusal stays until the next action.
SUCCESS_MS = 8000


class StatusBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)
        self.kind = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_message)

    def show_success(self, message: str) -> None:
        self._show(message, "success", _SUCCESS)
        self._timer.start(SUCCESS_MS)

    def show_error(self, message: str) -> None:
        self._timer.stop()
        self._show(message, "error", _ERROR)

    def clear_message(self) -> None:
        self._timer.stop()
        self.kind = ""
        self.setText("")
        self.setVisible(False)

    def _show(self, message: str, kind: str, style: str) -> None:
        self.kind = kind
        self.setObjectName("formError" if kind == "error" else "statusSuccess")
        self.setStyleSheet(style)
        self.setText(message)
        self.setVisible(True)
