"""The Receipts tab: the patient's payment receipts as they see them, ten to a page.

Filter by payment date (From / To; blank shows all), view, print, save or email a receipt,
download the page's receipts as one PDF, and make a statement (or, in the US, a superbill)
for a period. Receipts are read off the ledger (services.receipts), so unapplying a payment
shows at once on its receipt.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desk_app.services.clock import clinic_today
from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.permissions import Permission
from desk_app.services.receipts import Receipt, ReceiptPage
from desk_app.views import a11y
from desk_app.views.profile.document_actions import DocumentActions
from desk_app.views.profile.document_dialog import DocumentDialog
from desk_app.views.profile.period_dialog import PeriodDialog, PeriodRequest
from desk_app.views.profile.receipts_model import ReceiptsModel
from desk_app.views.profile.tab_parts import TableTab, action_button, allow
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.view_context import ViewContext

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class DayError(ValueError):
    """A typed filter date that cannot be read; the message says what to change."""


def parse_day(text: str, label: str) -> date | None:
    """A day typed as YYYY-MM-DD; blank means no limit."""
    raw = text.strip()
    if not raw:
        return None
    match = _ISO_DAY.match(raw)
    try:
        if match is None:
            raise ValueError
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise DayError(
            f"{label} “{raw}” is not a date. Type it as year-month-day, for example "
            "2026-11-01, or leave it blank to show all."
        ) from None


class ReceiptsTab(TableTab):
    #: A page of receipts arrived and is on screen.
    loaded = Signal(object)

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, patient_id, parent)
        self.page: ReceiptPage | None = None
        self._page_number = 0
        self._period: tuple[date | None, date | None] = (None, None)
        self._stale = True
        self.documents = DocumentActions(ctx, self, self.banner, patient_id)

        self.model = ReceiptsModel(ctx.clinic.currency, ctx.clinic.time_zone, self)
        self.table = profile_table(
            "Receipts",
            self.model,
            {
                ReceiptsModel.NUMBER: "R-DESK10-0000-0000-0000",
                ReceiptsModel.PAID: "Sep 30, 2026",
                ReceiptsModel.METHOD: "Account credit",
                ReceiptsModel.AMOUNT: "$10,000.00",
            },
            stretch=ReceiptsModel.APPLIED_TO,
        )
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.doubleClicked.connect(lambda _index: self.view_selected())

        self.view_button = action_button("View", self.view_selected)
        self.view_button.setProperty("primary", True)
        self.print_button = action_button("Print", lambda: self._with_selected(self._print))
        self.save_button = action_button(
            "Save as PDF…", lambda: self._with_selected(self.documents.save_as)
        )
        self.email_button = action_button(
            "Email…", lambda: self._with_selected(self.documents.email)
        )
        self.statement_button = action_button("Statement…", self.open_statement)
        self.superbill_button = action_button("Superbill…", self.open_superbill)
        self.superbill_button.setVisible(False)

        self.from_edit = QLineEdit()
        self.to_edit = QLineEdit()
        for edit in (self.from_edit, self.to_edit):
            edit.setPlaceholderText("YYYY-MM-DD")
            edit.setMaximumWidth(130)
            edit.returnPressed.connect(self.apply_filter)
        from_label = a11y.labelled("From:", self.from_edit)
        to_label = a11y.labelled("To:", self.to_edit)
        self.filter_button = action_button("Filter", self.apply_filter)
        self.clear_button = action_button("Clear", self.clear_filter)
        self.download_button = action_button("Download Page", self.download_page)
        self.download_button.setProperty("primary", True)

        self.showing = QLabel()
        self.showing.setObjectName("muted")
        self.previous_button = action_button("Previous", lambda: self._go(-1))
        self.next_button = action_button("Next", lambda: self._go(+1))
        self.page_label = QLabel()

        actions = QHBoxLayout()
        actions.setSpacing(8)
        for button in (self.view_button, self.print_button, self.save_button, self.email_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.statement_button)
        actions.addWidget(self.superbill_button)

        filters = QHBoxLayout()
        filters.setSpacing(8)
        filters.addWidget(QLabel("Payment date"))
        filters.addSpacing(4)
        for widget in (from_label, self.from_edit, to_label, self.to_edit):
            filters.addWidget(widget)
        filters.addWidget(self.filter_button)
        filters.addWidget(self.clear_button)
        filters.addStretch(1)
        filters.addWidget(self.download_button)

        paging = QHBoxLayout()
        paging.setSpacing(8)
        paging.addWidget(self.showing)
        paging.addStretch(1)
        paging.addWidget(self.previous_button)
        paging.addWidget(self.page_label)
        paging.addWidget(self.next_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(actions)
        layout.addLayout(filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(paging)
        self._update_actions()

    # ----- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        self._stale = False
        actor, pid, receipts = self.ctx.actor, self.patient_id, self.ctx.services.receipts
        start, end = self._period
        number = self._page_number
        self.call(
            lambda: receipts.page(actor, pid, start, end, number),
            self._loaded,
            "Receipts could not be loaded: ",
        )

    def _loaded(self, page: ReceiptPage) -> None:
        keep = self._row_to_select()
        self.page = page
        self._page_number = page.page
        self.model.set_rows(page.receipts)
        if page.receipts:
            if keep is not None and any(r.id == keep for r in page.receipts):
                select_id(self.table, page.receipts, keep)
            else:
                self.table.selectRow(0)
        self.superbill_button.setVisible(page.offers_superbill)
        if page.total:
            last = page.first_shown + len(page.receipts) - 1
            plural = "receipt" if page.total == 1 else "receipts"
            self.showing.setText(f"Showing {page.first_shown}–{last} of {page.total} {plural}")
        else:
            filtered = any(day is not None for day in self._period)
            self.showing.setText(
                "No receipts paid in this period." if filtered else "No receipts yet."
            )
        self.page_label.setText(f"Page {page.page + 1} of {page.page_count}")
        self._update_actions()
        self.loaded.emit(page)

    # ----- filter and pages ----------------------------------------------------------------

    def apply_filter(self) -> None:
        try:
            start = parse_day(self.from_edit.text(), "From")
            end = parse_day(self.to_edit.text(), "To")
        except DayError as error:
            self.banner.show_error(str(error))
            return
        if start is not None and end is not None and start > end:
            self.banner.show_error("The From date is after the To date; swap them or clear one.")
            return
        self.banner.clear_message()
        self._period = (start, end)
        self._page_number = 0
        self.reload()

    def clear_filter(self) -> None:
        self.from_edit.clear()
        self.to_edit.clear()
        self.apply_filter()

    def _go(self, step: int) -> None:
        self._page_number = max(0, self._page_number + step)
        self._select_after_load = None
        self.table.clearSelection()
        self.reload()

    # ----- the selected receipt ------------------------------------------------------------

    def selected_receipt(self) -> Receipt | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def selected_id(self) -> uuid.UUID | None:
        receipt = self.selected_receipt()
        return None if receipt is None else receipt.id

    def view_selected(self) -> None:
        self._with_selected(self._show)

    def _show(self, document: PdfDocument) -> None:
        DocumentDialog(self.ctx, document, self.patient_id, self).open()

    def _print(self, document: PdfDocument) -> None:
        self.documents.print_now(document)

    def _with_selected(self, then: Callable[[PdfDocument], object]) -> None:
        """Build the selected receipt's PDF (on the database thread), then hand it to `then`."""
        receipt = self.selected_receipt()
        if receipt is not None:
            self._build([receipt], then)

    def download_page(self) -> None:
        """The page's receipts in one PDF (built off the UI thread), saved where chosen."""
        if self.page is not None and self.page.receipts:
            self._build(list(self.page.receipts), self.documents.save_as)

    def _build(self, receipts: list[Receipt], then: Callable[[PdfDocument], object]) -> None:
        actor, pid, documents = self.ctx.actor, self.patient_id, self.ctx.services.documents
        self.banner.clear_message()
        self.call(
            lambda: documents.payment_receipts(actor, pid, receipts),
            lambda document: _hand_over(document, then),
        )

    # ----- statements and superbills -------------------------------------------------------

    def open_statement(self) -> None:
        self._open_period(
            "Statement of account",
            "Make statement",
            "Invoices, payments and refunds in the period, with the opening and closing balance.",
            lambda request: self.ctx.services.documents.statement(
                self.ctx.actor, self.patient_id, request.start, request.end
            ),
        )

    def open_superbill(self) -> None:
        self._open_period(
            "Superbill",
            "Make superbill",
            "Services in the period with their provider, for the patient's US insurer.",
            lambda request: self.ctx.services.documents.superbill(
                self.ctx.actor, self.patient_id, request.start, request.end
            ),
        )

    def _open_period(
        self, title: str, action: str, subtitle: str, build: Callable[[PeriodRequest], PdfDocument]
    ) -> None:
        today = clinic_today(self.ctx.services.db.clock, self.ctx.clinic.time_zone)
        if self.patient_name:
            subtitle = f"{self.patient_name} · {subtitle}"
        dialog = PeriodDialog(title, action, subtitle, date(today.year, 1, 1), today, self)
        dialog.submitted.connect(
            lambda request: self.submit(dialog, lambda: build(request), self._show)
        )
        dialog.open()

    # ----- what is allowed -----------------------------------------------------------------

    def _update_actions(self) -> None:
        receipt = self.selected_receipt()
        chosen = receipt is not None
        reason = "Select a receipt first."
        for button in (self.view_button, self.print_button, self.save_button):
            allow(button, chosen, reason)
        if not self.ctx.can(Permission.EMAIL_DOCUMENTS):
            allow(
                self.email_button,
                False,
                f"You do not have permission to {Permission.EMAIL_DOCUMENTS.value}.",
            )
        else:
            allow(self.email_button, chosen, reason)
        has_page = self.page is not None and bool(self.page.receipts)
        allow(self.download_button, has_page, "There are no receipts on this page.")
        page = self.page
        allow(self.previous_button, page is not None and page.page > 0, "This is the first page.")
        allow(
            self.next_button,
            page is not None and page.page + 1 < page.page_count,
            "This is the last page.",
        )


def _hand_over(document: PdfDocument, then: Callable[[PdfDocument], object]) -> None:
    then(document)  # what it returns (a dialog it opened) is not needed here
