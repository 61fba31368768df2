"""Item models for the Cards & charges tab: the cards on file, and the card payments."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from desk_app.models.money import format_money
from desk_app.services.card_payment_rows import CardPaymentRow
from desk_app.services.cards import CardRow
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.profile.table_model import RowTableModel

EXPIRED_COLOUR = QColor("#b42318")

_Index = QModelIndex | QPersistentModelIndex


class CardsModel(RowTableModel[CardRow]):
    BRAND, LAST4, EXPIRES, STATUS, ADDED_BY, ADDED_ON, ACCOUNT = range(7)
    HEADERS = ("Card", "Last four", "Expires", "Status", "Added by", "Added on", "Account")

    def __init__(self, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.time_zone = time_zone

    def cell(self, row: CardRow, column: int) -> str:
        if column == self.BRAND:
            return row.brand_label
        if column == self.LAST4:
            return f"•••• {row.last4}"
        if column == self.EXPIRES:
            return row.expiry
        if column == self.STATUS:
            return "Expired" if row.expired else "Valid"
        if column == self.ADDED_BY:
            return row.added_by_name
        if column == self.ADDED_ON:
            return clinic_day_text(row.added_at, self.time_zone)
        if column == self.ACCOUNT:
            return row.account_label
        return ""

    def tooltip(self, row: CardRow, column: int) -> str:
        if row.expired:
            return f"This card expired at the end of {row.expiry}; it cannot be charged."
        return super().tooltip(row, column)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is not None and row.expired and index.column() in (self.EXPIRES, self.STATUS):
            # Expired cards stand out: red and bold where the expiry is read.
            if role == Qt.ItemDataRole.ForegroundRole:
                return EXPIRED_COLOUR
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return super().data(index, role)


class CardPaymentsModel(RowTableModel[CardPaymentRow]):
    DATE, CARD, AMOUNT, REFUNDED, APPLIED, CREDIT, COLLECTED_BY = range(7)
    HEADERS = ("Date", "Card", "Amount", "Refunded", "On invoices", "Credit", "Collected by")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({AMOUNT, REFUNDED, APPLIED, CREDIT})

    def __init__(self, currency: str, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.time_zone = time_zone

    def cell(self, row: CardPaymentRow, column: int) -> str:
        money = self._money
        if column == self.DATE:
            return clinic_day_text(row.received_at, self.time_zone)
        if column == self.CARD:
            return row.card_label
        if column == self.AMOUNT:
            return money(row.amount_cents)
        if column == self.REFUNDED:
            return money(row.refunded_cents) if row.refunded_cents else "—"
        if column == self.APPLIED:
            return money(row.applied_cents)
        if column == self.CREDIT:
            return money(row.unapplied_cents)
        if column == self.COLLECTED_BY:
            return row.collected_by
        return ""

    def is_muted(self, row: CardPaymentRow) -> bool:
        return row.refundable_cents <= 0  # refunded in full

    def _money(self, minor: int) -> str:
        return format_money(minor, self.currency)
