"""Item models for the Billing tab: invoices, payments and what is applied where."""

from __future__ import annotations

import uuid
from typing import ClassVar

from PySide6.QtCore import QObject

from desk_app.models.enums import InvoiceStatus
from desk_app.models.money import format_money
from desk_app.services.ledger import AllocationRow, InvoiceRow, PaymentRow
from desk_app.views.profile.formats import clinic_day_text
from desk_app.views.profile.table_model import RowTableModel


class _Money:
    """What every billing model needs to show an amount or a date the clinic's way."""

    def __init__(self, currency: str, time_zone: str) -> None:
        self.currency = currency
        self.time_zone = time_zone

    def money(self, minor: int) -> str:
        return format_money(minor, self.currency)


def payment_label(row: PaymentRow, currency: str, time_zone: str) -> str:
    """'Cash $135.00, Oct 16, 2026': how a payment is named wherever one is chosen."""
    amount = format_money(row.amount_cents, currency)
    return f"{row.method.label} {amount}, {clinic_day_text(row.received_at, time_zone)}"


class InvoicesModel(RowTableModel[InvoiceRow]):
    NUMBER, DATE, ITEM, TOTAL, APPLIED, BALANCE, STATUS = range(7)
    HEADERS = ("Number", "Date", "Item", "Total", "Applied", "Balance", "Status")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({TOTAL, APPLIED, BALANCE})

    def __init__(self, currency: str, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fmt = _Money(currency, time_zone)

    def cell(self, row: InvoiceRow, column: int) -> str:
        fmt = self._fmt
        if column == self.NUMBER:
            return row.number
        if column == self.DATE:
            return clinic_day_text(row.issued_at, fmt.time_zone)
        if column == self.ITEM:
            return row.description
        if column == self.TOTAL:
            return fmt.money(row.total_cents)
        if column == self.APPLIED:
            return fmt.money(row.applied_cents)
        if column == self.BALANCE:
            return fmt.money(row.balance_cents)
        if column == self.STATUS:
            return invoice_status_text(row)
        return ""

    def is_muted(self, row: InvoiceRow) -> bool:
        return row.status == InvoiceStatus.DELETED

    def is_emphasised(self, row: InvoiceRow, column: int) -> bool:
        """An invoice still owed stands out, however far down the list it is."""
        return (
            column in (self.BALANCE, self.STATUS)
            and row.status != InvoiceStatus.DELETED
            and row.balance_cents > 0
        )


def invoice_status_text(row: InvoiceRow) -> str:
    if row.status == InvoiceStatus.DELETED:
        return "Deleted"
    if row.balance_cents == 0:
        return "Paid"
    return "Part paid" if row.applied_cents > 0 else "Unpaid"


class PaymentsModel(RowTableModel[PaymentRow]):
    DATE, METHOD, AMOUNT, APPLIED, UNAPPLIED, COLLECTED_BY, REFERENCE = range(7)
    HEADERS = ("Date", "Method", "Amount", "Applied", "Unapplied", "Collected by", "Reference")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({AMOUNT, APPLIED, UNAPPLIED})

    def __init__(self, currency: str, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fmt = _Money(currency, time_zone)

    def cell(self, row: PaymentRow, column: int) -> str:
        fmt = self._fmt
        if column == self.DATE:
            return clinic_day_text(row.received_at, fmt.time_zone)
        if column == self.METHOD:
            return row.method.label
        if column == self.AMOUNT:
            return fmt.money(row.amount_cents)
        if column == self.APPLIED:
            return fmt.money(row.applied_cents)
        if column == self.UNAPPLIED:
            return fmt.money(row.unapplied_cents)
        if column == self.COLLECTED_BY:
            return row.collected_by
        if column == self.REFERENCE:
            return row.reference
        return ""

    def tooltip(self, row: PaymentRow, column: int) -> str:
        if row.refunded_cents:
            return f"{self._fmt.money(row.refunded_cents)} of this payment was refunded."
        return super().tooltip(row, column)


class AllocationsModel(RowTableModel[AllocationRow]):
    """Each row is one ledger entry; an unapply is its own row with a negative amount."""

    DATE, PAYMENT, INVOICE, AMOUNT = range(4)
    HEADERS = ("Date", "Payment", "Invoice", "Amount")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({AMOUNT})

    def __init__(self, currency: str, time_zone: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fmt = _Money(currency, time_zone)
        #: How each payment is named, the same way as in the dialogs (set before the rows).
        self.payment_labels: dict[uuid.UUID, str] = {}

    def cell(self, row: AllocationRow, column: int) -> str:
        fmt = self._fmt
        if column == self.DATE:
            return clinic_day_text(row.created_at, fmt.time_zone)
        if column == self.PAYMENT:
            return self.payment_labels.get(row.payment_id, row.payment_label)
        if column == self.INVOICE:
            return row.invoice_number
        if column == self.AMOUNT:
            return fmt.money(row.amount_cents)
        return ""

    def is_muted(self, row: AllocationRow) -> bool:
        return row.amount_cents < 0
