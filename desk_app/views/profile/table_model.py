"""The base of the profile's read-only tables: a list of row objects, one column per constant.

Subclasses declare HEADERS (in column-constant order), which columns hold amounts (right
aligned) and how each cell reads. The row object itself is available under ROW_ROLE, so views
act on ids, never on what a cell happens to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

T = TypeVar("T")

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
MUTED_COLOUR = QColor("#8a979d")
OWING_COLOUR = QColor("#b54708")  # the header's owing colour; 5.4:1 on white

_Index = QModelIndex | QPersistentModelIndex


class RowTableModel(QAbstractTableModel, Generic[T]):
    HEADERS: ClassVar[tuple[str, ...]] = ()
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[T] = []

    # ----- what subclasses say -----------------------------------------------------------

    def cell(self, row: T, column: int) -> str:
        raise NotImplementedError

    def tooltip(self, row: T, column: int) -> str:
        """The full text of a cell, for when a narrow column cuts it short."""
        return self.cell(row, column)

    def is_muted(self, row: T) -> bool:
        """Rows shown greyed (a deleted invoice, a cancelled visit)."""
        return False

    def is_emphasised(self, row: T, column: int) -> bool:
        """Cells shown bold in the attention colour (what is still owed)."""
        return False

    # ----- the rows ----------------------------------------------------------------------

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[T]:
        return list(self._rows)

    def row_at(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # ----- QAbstractTableModel -----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column) or None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if self.is_muted(row):
                return MUTED_COLOUR
            return OWING_COLOUR if self.is_emphasised(row, column) else None
        if role == Qt.ItemDataRole.FontRole:
            if self.is_muted(row):
                font = QFont()
                font.setItalic(True)
                return font
            if self.is_emphasised(row, column):
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == ROW_ROLE:
            return row
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(section)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _alignment(self, column: int) -> int:
        horizontal = (
            Qt.AlignmentFlag.AlignRight
            if column in self.AMOUNT_COLUMNS
            else Qt.AlignmentFlag.AlignLeft
        )
        return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
