"""Pieces the profile's tabs share: titled table sections, action buttons, and the skeleton
of a tab of tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.view_context import ViewContext

T = TypeVar("T")

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


class TableTab(QWidget):
    """A profile tab of tables: action buttons, a status banner, then titled tables stacked.

    Background calls report on the banner. After a reload the tab selects the row just
    written (`_select_after_load`), else the row that was selected before. A tab that sets
    `_stale` loads when it is next shown (`mark_stale`), so opening a profile reads only what
    its first tab shows.
    """

    _stale = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def mark_stale(self) -> None:
        """What this tab shows may have changed: reload now if on screen, else when shown."""
        self._stale = True
        if self.isVisible():
            self.reload()

    def reload(self) -> None:
        raise NotImplementedError

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        #: Shown in dialog subtitles; the profile sets it once the patient is loaded.
        self.patient_name = ""
        self._select_after_load: uuid.UUID | None = None
        self.banner = StatusBanner(self)

    def lay_out(self, buttons: QHBoxLayout, tables: Sequence[tuple[str, QTableView, int]]) -> None:
        """`buttons` over the banner over `tables`: (title, table, share of the height) each."""
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(12)
        splitter.setStyleSheet(SPLITTER_STYLE)
        for title, table, stretch in tables:
            splitter.addWidget(section(title, table))
            splitter.setStretchFactor(splitter.count() - 1, stretch)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)

    def call(self, work: Callable[[], T], on_done: Callable[[T], None], failed: str = "") -> None:
        """Run `work` on the database thread, then `on_done` with its result.

        A failure is said on the banner, after `failed` when given.
        """
        self.ctx.tasks.db(
            work,
            on_done,
            lambda error: self.banner.show_error(failed + message_for(error)),
            owner=self,
        )

    def submit(
        self, dialog: ActionDialog, work: Callable[[], T], on_done: Callable[[T], None]
    ) -> None:
        """Run what `dialog` asked for (see `submit_from`), clearing the banner first."""
        self.banner.clear_message()
        submit_from(self.ctx, self, dialog, work, on_done)

    def selected_id(self) -> uuid.UUID | None:
        """The id of the row selected in the tab's tables, if any."""
        raise NotImplementedError

    def _row_to_select(self) -> uuid.UUID | None:
        """For a load that has just come back: the row just written, else the one selected."""
        keep = self._select_after_load or self.selected_id()
        self._select_after_load = None
        return keep
