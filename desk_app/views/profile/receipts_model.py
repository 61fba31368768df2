"""The Receipts tab's table: one row per receipt the patient has, as they see it."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QObject

from desk_app.models.money import format_money
from desk_app.services.receipts import Receipt, ReceiptKind
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.profile.table_model import RowTableModel


class ReceiptsModel(RowTableModel[Receipt]):
    NUMBER, PAID, METHOD, APPLIED_TO, AMOUNT = range(5)
    HEADERS = ("Receipt", "Payment date", "Method", "Applied to", "Amount")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({AMOUNT})

    def __init__(self, currency: str, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.time_zone = time_zone

    def cell(self, row: Receipt, column: int) -> str:
        if column == self.NUMBER:
            return row.number
        if column == self.PAID:
            return clinic_day_text(row.paid_at, self.time_zone)
        if column == self.METHOD:
            return row.method.label
        if column == self.APPLIED_TO:
            return applied_text(row)
        if column == self.AMOUNT:
            return format_money(row.amount_cents, self.currency)
        return ""

    def tooltip(self, row: Receipt, column: int) -> str:
        if column != self.APPLIED_TO:
            return super().tooltip(row, column)
        lines = [
            f"{line.invoice_number}: {line.description} — "
            f"{format_money(line.amount_cents, self.currency)}"
            for line in row.lines
        ]
        if row.from_credit:
            lines.append(
                f"Applied from credit on {clinic_day_text(row.applied_at, self.time_zone)}"
            )
        if row.kind == ReceiptKind.ON_ACCOUNT:
            lines.append("Held as account credit for future visits and purchases")
        return "\n".join(lines)


def applied_text(row: Receipt) -> str:
    """'DESK1-00012 · Massage 60 min', '2 invoices', or 'Account credit'."""
    if row.kind == ReceiptKind.ON_ACCOUNT:
        return "Account credit"
    if len(row.lines) == 1:
        line = row.lines[0]
        return f"{line.invoice_number} · {line.description}"
    return f"{len(row.lines)} invoices: " + ", ".join(line.invoice_number for line in row.lines)
