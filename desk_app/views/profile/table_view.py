"""A read-only table for the profile: whole-row selection, sized columns, named for readers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Protocol

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from desk_app.views import a11y


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


#: Room for the cell's own padding and the style's margins on both sides.
CELL_PADDING = 30


def profile_table(
    label: str,
    model: QAbstractItemModel,
    samples: Mapping[int, str],
    stretch: int,
    parent: QWidget | None = None,
) -> QTableView:
    """A table named `label`.

    Each column in `samples` starts wide enough for its sample text (the widest value it
    usually holds) and its header, so nothing is clipped; column `stretch` takes what is left.
    """
    view = QTableView(parent)
    a11y.name(view, label)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setCornerButtonEnabled(False)
    # Cell text lines up with the header titles above it.
    view.setStyleSheet("QTableView::item { padding-left: 4px; padding-right: 4px; }")
    vertical = view.verticalHeader()
    vertical.setVisible(False)
    vertical.setDefaultSectionSize(max(26, view.fontMetrics().height() + 10))
    a11y.name(vertical, f"{a11y.plain(label)} rows")
    header = view.horizontalHeader()
    a11y.name(header, f"{a11y.plain(label)} columns")
    header.setHighlightSections(False)
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(56)
    metrics = view.fontMetrics()
    bold = QFont(view.font())
    bold.setBold(True)
    header_metrics = QFontMetrics(bold)
    for column, sample in samples.items():
        title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        width = max(metrics.horizontalAdvance(sample), header_metrics.horizontalAdvance(title))
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width + CELL_PADDING)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def selected_row(view: QTableView) -> int | None:
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    return rows[0].row() if rows else None


def select_id(view: QTableView, rows: Iterable[_HasId], wanted: uuid.UUID) -> None:
    """Select the row whose id is `wanted`; `rows` are the view's rows, in order."""
    for number, row in enumerate(rows):
        if row.id == wanted:
            view.selectRow(number)
