"""Item model for the patient's Packages tab: each package or membership period and its usage."""

from __future__ import annotations

from desk_app.models.enums import PlanKind
from desk_app.models.money import format_money
from desk_app.services.package_terms import SaleStatus
from desk_app.services.packages import SaleRow
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.profile.table_model import RowTableModel


class SalesModel(RowTableModel[SaleRow]):
    PACKAGE, SOLD, INVOICE, STATUS, USAGE, PRICE = range(6)
    HEADERS = ("Package", "Sold", "Invoice", "Status", "Usage", "Price")
    AMOUNT_COLUMNS = frozenset({PRICE})

    def __init__(self, currency: str, time_zone: str) -> None:
        super().__init__()
        self.currency = currency
        self.time_zone = time_zone
        #: The patient whose profile this is (a household member's package says whose it is).
        self.patient_id: object = None

    def cell(self, row: SaleRow, column: int) -> str:
        if column == self.PACKAGE:
            name = f"{row.name} (membership)" if row.kind is PlanKind.MEMBERSHIP else row.name
            if self.patient_id is not None and row.patient_id != self.patient_id:
                return f"{name}, shared by {row.purchaser}"
            return name
        if column == self.SOLD:
            return clinic_day_text(row.sold_at, self.time_zone)
        if column == self.INVOICE:
            return row.invoice_number
        if column == self.STATUS:
            if row.status is SaleStatus.CLOSED and row.refunded_cents:
                return f"Refunded {format_money(row.refunded_cents, self.currency)}"
            return row.status.label
        if column == self.USAGE:
            return row.usage_text
        if column == self.PRICE:
            return format_money(row.price_cents, self.currency)
        return ""

    def tooltip(self, row: SaleRow, column: int) -> str:
        if column == self.STATUS and row.status is SaleStatus.AWAITING_PAYMENT:
            owing = format_money(row.price_cents - row.paid_cents, self.currency)
            return f"{owing} owing on invoice {row.invoice_number}"
        return self.cell(row, column)

    def is_muted(self, row: SaleRow) -> bool:
        return row.status in (SaleStatus.CLOSED, SaleStatus.EXPIRED, SaleStatus.USED_UP)
