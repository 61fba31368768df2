"""The billing-notice history table: channel, recipient, when, by whom, status."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QObject

from desk_app.models.billing_notices import NoticeStatus
from desk_app.services.billing_notices import NoticeRow
from desk_app.services.clock import to_clinic_time
from desk_app.views.profile.formats import clinic_day_text, clock_text
from desk_app.views.profile.table_model import RowTableModel


class NoticeHistoryModel(RowTableModel[NoticeRow]):
    SENT, CHANNEL, TO, WHAT, AMOUNT, BY, STATUS = range(7)
    HEADERS = ("Sent", "Channel", "To", "What", "Amount", "By", "Status")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({AMOUNT})

    def __init__(self, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.time_zone = time_zone

    def cell(self, row: NoticeRow, column: int) -> str:
        if column == self.SENT:
            local = to_clinic_time(row.created_at, self.time_zone)
            return f"{clinic_day_text(row.created_at, self.time_zone)} {clock_text(local)}"
        if column == self.CHANNEL:
            return row.channel.label
        if column == self.TO:
            return row.recipient
        if column == self.WHAT:
            return (f"{row.kind.label} {row.invoice_number}" if row.invoice_number
                    else row.kind.label)
        if column == self.AMOUNT:
            return row.amount_label
        if column == self.BY:
            return row.sent_by
        return row.status_label

    def tooltip(self, row: NoticeRow, column: int) -> str:
        if column == self.STATUS or column == self.WHAT:
            return f"{row.status_label}\n\n{row.message}"
        return self.cell(row, column)

    def is_muted(self, row: NoticeRow) -> bool:
        return row.status is NoticeStatus.EXPIRED
