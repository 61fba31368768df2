"""The warning across the Cards & charges tab while a charge or refund is being checked."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desk_app.models.money import format_money
from desk_app.services.card_payments import UnsettledAttempt
from desk_app.views import a11y

_STYLE = (
    "QFrame#unsettledBanner { background: #fff6e5; border: 1px solid #f0c36d;"
    " border-radius: 6px; }"
    "QLabel { color: #7a4a00; }"
)


def unsettled_text(attempts: Sequence[UnsettledAttempt], currency: str) -> str:
    """One sentence per attempt still being checked with Stripe."""
    lines = []
    for attempt in attempts:
        money = format_money(attempt.amount_cents, currency)
        if attempt.kind == "charge":
            lines.append(
                f"A charge of {money} is being checked with Stripe; this patient can't be "
                "charged again until it's settled."
            )
        else:
            lines.append(
                f"A refund of {money} is being checked with Stripe; it can't be refunded "
                "again until it's settled."
            )
    return "\n".join(lines)


class UnsettledBanner(QFrame):
    """Hidden unless something is unsettled; "Check now" asks for a reconciliation."""

    check_requested = Signal()

    def __init__(self, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.setObjectName("unsettledBanner")
        self.setStyleSheet(_STYLE)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(70)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Checking with Stripe")
        self.busy.hide()
        self.check_button = QPushButton("Check now")
        a11y.button_named(self.check_button)
        self.check_button.clicked.connect(self._check)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(10)
        row.addWidget(self.text, 1)
        row.addWidget(self.busy)
        row.addWidget(self.check_button)
        self.hide()

    def set_attempts(self, attempts: Sequence[UnsettledAttempt]) -> None:
        self.set_checking(False)
        self.text.setText(unsettled_text(attempts, self.currency))
        self.setVisible(bool(attempts))

    def set_checking(self, checking: bool) -> None:
        self.busy.setVisible(checking)
        self.check_button.setEnabled(not checking)

    def _check(self) -> None:
        self.set_checking(True)
        self.check_requested.emit()
