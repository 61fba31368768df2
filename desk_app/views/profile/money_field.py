"""An amount typed by a person: parsed strictly, refused inline with the reason."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from desk_app.models.money import AmountError, currency_decimals, format_money, parse_money
from desk_app.views import a11y
from desk_app.views.profile.inline_error import InlineError, mark_invalid


class MoneyField(QWidget):
    """A line edit for an amount with its error message underneath.

    `amount()` returns the minor units, or None after showing why the text is refused.
    """

    edited = Signal()

    def __init__(self, label: str, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.line_edit = QLineEdit(self)
        a11y.name(self.line_edit, label)
        decimals = currency_decimals(currency)
        self.line_edit.setPlaceholderText("0." + "0" * decimals if decimals else "0")
        self.line_edit.setMinimumWidth(140)
        self.error = InlineError(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.line_edit)
        layout.addWidget(self.error)
        self.setFocusProxy(self.line_edit)
        self.line_edit.textEdited.connect(self._on_edited)

    def text(self) -> str:
        return self.line_edit.text()

    def set_text(self, text: str) -> None:
        self.line_edit.setText(text)
        self.show_error("")

    def set_amount(self, minor: int) -> None:
        """Prefill an amount as a person would type it: '1234.50', no symbol or commas."""
        shown = format_money(minor, self.currency)
        digits = "".join(c for c in shown if c.isdigit() or c == ".")
        self.set_text(digits)

    def peek(self) -> int | None:
        """The amount if the text is valid, without showing any message."""
        try:
            return parse_money(self.text(), self.currency)
        except AmountError:
            return None

    def amount(self) -> int | None:
        """The amount typed, or None after showing the reason it cannot be taken."""
        try:
            value = parse_money(self.text(), self.currency)
        except AmountError as exc:
            self.show_error(str(exc))
            self.line_edit.setFocus()
            return None
        self.show_error("")
        return value

    def show_error(self, message: str) -> None:
        self.error.show_message(message)
        mark_invalid(self.line_edit, bool(message))

    def _on_edited(self, _text: str) -> None:
        self.show_error("")
        self.edited.emit()
