"""A spinning bar and a line saying what the app is waiting for (Stripe, usually)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


class BusyRow(QWidget):
    """Hidden until `start(text)`; `stop()` hides it again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(90)
        self.label = QLabel()
        self.label.setObjectName("muted")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        row.addWidget(self.bar)
        row.addWidget(self.label, 1)
        self.hide()

    @property
    def running(self) -> bool:
        return not self.isHidden()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.bar.setAccessibleName(text.rstrip("…"))
        self.show()

    def stop(self) -> None:
        self.hide()
