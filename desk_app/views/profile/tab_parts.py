"""Pieces the profile's tabs share: titled table sections and action buttons."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from desk_app.views import a11y

#: A quiet handle between stacked tables: a thin line with room to grab.
SPLITTER_STYLE = (
    "QSplitter::handle:vertical { background: transparent; margin: 5px 0px;"
    " border-top: 2px solid #d5dde1; }"
)


def section(title: str, table: QTableView) -> QWidget:
    """A table under its bold title."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(6)
    heading = QLabel(title)
    heading.setObjectName("sectionTitle")
    heading.setStyleSheet("font-weight: 600; color: #34474f;")
    layout.addWidget(heading)
    layout.addWidget(table, 1)
    return holder


def action_button(label: str, slot: Callable[[], None]) -> QPushButton:
    button = QPushButton(label)
    a11y.button_named(button)
    button.clicked.connect(slot)
    return button


def allow(button: QPushButton, enabled: bool, reason: str) -> None:
    """Enable a button, or disable it with a tooltip that says why."""
    button.setEnabled(enabled)
    button.setToolTip("" if enabled else reason)
