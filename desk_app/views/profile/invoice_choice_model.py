"""The invoices a new payment can pay, each with a checkbox, oldest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from desk_app.models.money import format_money
from desk_app.services.ledger import InvoiceRow
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.profile.table_model import RowTableModel

_Index = QModelIndex | QPersistentModelIndex


class InvoiceChoiceModel(RowTableModel[InvoiceRow]):
    NUMBER, DATE, ITEM, BALANCE = range(4)
    HEADERS = ("Invoice", "Date", "Item", "Balance")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({BALANCE})

    checks_changed = Signal()

    def __init__(
        self,
        invoices: Sequence[InvoiceRow],
        currency: str,
        time_zone: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.currency = currency
        self.time_zone = time_zone
        # Oldest first: that is the order a payment pays them in.
        ordered = sorted(
            (i for i in invoices if i.balance_cents > 0), key=lambda i: (i.issued_at, i.number)
        )
        self.set_rows(ordered)
        self._checked = {i.id for i in ordered}

    def cell(self, row: InvoiceRow, column: int) -> str:
        if column == self.NUMBER:
            return row.number
        if column == self.DATE:
            return clinic_day_text(row.issued_at, self.time_zone)
        if column == self.ITEM:
            return row.description
        if column == self.BALANCE:
            return format_money(row.balance_cents, self.currency)
        return ""

    def checked_ids(self) -> list[uuid.UUID]:
        """The ticked invoices in the order the payment pays them."""
        return [row.id for row in self.rows if row.id in self._checked]

    def checked_balance(self) -> int:
        return sum(row.balance_cents for row in self.rows if row.id in self._checked)

    def set_checked(self, invoice_id: uuid.UUID, checked: bool) -> None:
        for number, row in enumerate(self.rows):
            if row.id == invoice_id:
                state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                self.setData(
                    self.index(number, self.NUMBER), state.value, Qt.ItemDataRole.CheckStateRole
                )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == self.NUMBER:
            row = self.row_at(index.row())
            if row is None:
                return None
            return Qt.CheckState.Checked if row.id in self._checked else Qt.CheckState.Unchecked
        return super().data(index, role)

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None or role != Qt.ItemDataRole.CheckStateRole:
            return False
        if Qt.CheckState(value) == Qt.CheckState.Checked:
            self._checked.add(row.id)
        else:
            self._checked.discard(row.id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checks_changed.emit()
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == self.NUMBER:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags
