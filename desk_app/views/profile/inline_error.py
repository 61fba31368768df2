"""A message shown right under the field it is about, and the red ring around that field."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

ERROR_COLOUR = "#b42318"


class InlineError(QLabel):
    """Hidden while empty; wraps long messages so the dialog never grows sideways."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldError")
        self.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.show_message("")

    @property
    def message(self) -> str:
        return self.text() if not self.isHidden() else ""


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """Set the style sheet's `invalid` flag (a red border) and make the style notice it."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
