"""Clinic ▸ Sync conflicts: what lost a merge between desks, and what needs a person."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.clock import to_clinic_time
from desk_app.services.sync.conflicts import ConflictRow
from desk_app.views.a11y import name
from desk_app.views.forms import DialogHeader, FormDialog, push_button
from desk_app.views.view_context import ViewContext

COLUMNS = ("When", "What", "Kept", "Lost", "Why")


class ConflictLogDialog(FormDialog):
    """Lists the conflict log (unreviewed first); an admin marks entries reviewed."""

    loaded = Signal()
    reviewed = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.rows: list[ConflictRow] = []
        self.setWindowTitle("Sync conflicts — Front Desk")
        self.resize(940, 460)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        name(self.table.verticalHeader(), "Sync conflicts rows")
        header = self.table.horizontalHeader()
        name(header, "Sync conflicts columns")
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        name(self.table, "Sync conflicts")
        self.empty = QLabel("Nothing to review: every desk's changes merged cleanly.")
        self.empty.setObjectName("muted")
        self.show_reviewed = QCheckBox("Show reviewed")
        name(self.show_reviewed, "Show reviewed")
        self.show_reviewed.toggled.connect(self.reload)
        self.mark_button = push_button("Mark reviewed", primary=True)
        self.mark_button.setEnabled(False)
        self.mark_button.clicked.connect(self.mark_reviewed)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        close = push_button("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_reviewed)
        buttons.addStretch(1)
        buttons.addWidget(self.mark_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(DialogHeader(
            "Sync conflicts",
            "When two desks changed the same detail while apart, the change that reached the "
            "central database first was kept. Rules that span desks are flagged here too."))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        conflicts, actor = self._ctx.services.conflicts, self._ctx.actor
        include = self.show_reviewed.isChecked()
        self._ctx.tasks.db(lambda: conflicts.list(actor, include_reviewed=include), self._fill,
                           owner=self)

    def _fill(self, rows: list[ConflictRow]) -> None:
        self.rows = rows
        zone = self._ctx.clinic.time_zone
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            kept = f"{row.kept_value}" + (f" ({row.kept_workstation})"
                                          if row.kept_workstation else "")
            lost = f"{row.lost_value}" + (f" ({row.lost_workstation})"
                                          if row.lost_workstation else "")
            why = row.summary + (f" Reviewed by {row.reviewed_by}." if row.reviewed_by else "")
            values = (f"{to_clinic_time(row.detected_at, zone):%Y-%m-%d %H:%M}",
                      f"{row.kind_label}: {row.what}", kept, lost, why)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                self.table.setItem(i, column, item)
        self.table.resizeRowsToContents()
        self.table.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        self._selection_changed()
        self.loaded.emit()

    def _selected(self) -> ConflictRow | None:
        index = self.table.currentRow()
        if 0 <= index < len(self.rows) and self.table.selectionModel().hasSelection():
            return self.rows[index]
        return None

    def _selection_changed(self) -> None:
        row = self._selected()
        self.mark_button.setEnabled(row is not None and not row.reviewed_by)

    def mark_reviewed(self) -> None:
        row = self._selected()
        if row is None:
            return
        conflicts, actor = self._ctx.services.conflicts, self._ctx.actor
        self.mark_button.setEnabled(False)

        def done(_none: None) -> None:
            self.reviewed.emit()
            self.reload()

        self._ctx.tasks.db(lambda: conflicts.mark_reviewed(actor, row.id), done, owner=self)
