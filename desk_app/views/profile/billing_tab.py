"""The Billing tab: invoices, payments, what is applied where, and the actions on them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desk_app.models.enums import InvoiceStatus
from desk_app.models.money import format_money
from desk_app.services.invoicing import InvoiceCreated, LineSpec, ProductChoice
from desk_app.services.ledger import BillingSummary, InvoiceRow, PaymentResult
from desk_app.services.permissions import Permission
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.apply_dialog import ApplyCreditDialog, ApplyPaymentDialog, ApplyRequest
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.billing_models import (
    AllocationsModel,
    InvoicesModel,
    PaymentsModel,
    payment_label,
)
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.invoice_items_dialog import InvoiceItemsDialog
from desk_app.views.profile.record_payment_dialog import PaymentRequest, RecordPaymentDialog
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.tab_parts import SPLITTER_STYLE, action_button, allow, section
from desk_app.views.profile.table_view import profile_table, selected_row
from desk_app.views.profile.unapply_dialog import UnapplyDialog, UnapplyRequest
from desk_app.views.view_context import ViewContext

T = TypeVar("T")

DATE_SAMPLE = "Sep 30, 2026"
AMOUNT_SAMPLE = "$10,000.00"


class BillingTab(QWidget):
    #: A fresh summary arrived (the header shows its balance).
    summary_loaded = Signal(object)
    #: A write changed what the patient owes or holds, and the summary shows it.
    balance_changed = Signal()

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        #: Shown in dialog subtitles; the profile sets it once the patient is loaded.
        self.patient_name = ""
        self.summary: BillingSummary | None = None
        self._written = False
        self._select_after_load: uuid.UUID | None = None
        currency, tz = ctx.clinic.currency, ctx.clinic.time_zone

        self.invoices = InvoicesModel(currency, tz, self)
        self.payments = PaymentsModel(currency, tz, self)
        self.allocations = AllocationsModel(currency, tz, self)
        self.invoice_table = profile_table(
            "Invoices",
            self.invoices,
            {
                InvoicesModel.NUMBER: "DESK10-00000",
                InvoicesModel.DATE: DATE_SAMPLE,
                InvoicesModel.TOTAL: AMOUNT_SAMPLE,
                InvoicesModel.APPLIED: AMOUNT_SAMPLE,
                InvoicesModel.BALANCE: AMOUNT_SAMPLE,
                InvoicesModel.STATUS: "Part paid",
            },
            stretch=InvoicesModel.ITEM,
        )
        self.payment_table = profile_table(
            "Payments",
            self.payments,
            {
                PaymentsModel.DATE: DATE_SAMPLE,
                PaymentsModel.METHOD: "E-transfer",
                PaymentsModel.AMOUNT: AMOUNT_SAMPLE,
                PaymentsModel.APPLIED: AMOUNT_SAMPLE,
                PaymentsModel.UNAPPLIED: AMOUNT_SAMPLE,
                PaymentsModel.COLLECTED_BY: "Jordan Reyes",
            },
            stretch=PaymentsModel.REFERENCE,
        )
        self.allocation_table = profile_table(
            "Applied where",
            self.allocations,
            {
                AllocationsModel.DATE: DATE_SAMPLE,
                AllocationsModel.INVOICE: "DESK10-00000",
                AllocationsModel.AMOUNT: AMOUNT_SAMPLE,
            },
            stretch=AllocationsModel.PAYMENT,
        )
        self.invoice_table.selectionModel().selectionChanged.connect(self._update_actions)

        self.record_button = action_button("Record payment…", self.open_record_payment)
        self.record_button.setProperty("primary", True)
        self.apply_credit_button = action_button("Apply credit", self.open_apply_credit)
        self.apply_payment_button = action_button("Apply payment…", self.open_apply_payment)
        self.unapply_button = action_button("Unapply…", self.open_unapply)
        self.items_button = action_button("Invoice items…", self.open_invoice_items)
        self.delete_button = action_button("Delete invoice", self.open_delete_invoice)
        self.banner = StatusBanner(self)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (
            self.record_button,
            self.apply_credit_button,
            self.apply_payment_button,
            self.unapply_button,
            self.items_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(12)
        splitter.setStyleSheet(SPLITTER_STYLE)
        for title, table, stretch in (
            ("Invoices", self.invoice_table, 4),
            ("Payments", self.payment_table, 3),
            ("Applied where", self.allocation_table, 2),
        ):
            splitter.addWidget(section(title, table))
            splitter.setStretchFactor(splitter.count() - 1, stretch)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self._update_actions()

    # ----- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        actor, pid = self.ctx.actor, self.patient_id
        self.ctx.tasks.db(
            lambda: self.ctx.services.ledger.billing_summary(actor, pid),
            self._loaded,
            self._load_failed,
            owner=self,
        )

    def money_changed(self, message: str = "", select: uuid.UUID | None = None) -> None:
        """After a write anywhere on the profile: confirm it, reload, then say the balance moved."""
        if message:
            self.banner.show_success(message)
        self._written = True
        if select is not None:
            self._select_after_load = select
        self.reload()

    def _loaded(self, summary: BillingSummary) -> None:
        keep = self._select_after_load or self._selected_invoice_id()
        self._select_after_load = None
        self.summary = summary
        tz = self.ctx.clinic.time_zone
        self.invoices.set_rows(summary.invoices)
        self.payments.set_rows(summary.payments)
        self.allocations.payment_labels = {
            p.id: payment_label(p, self.ctx.clinic.currency, tz) for p in summary.payments
        }
        self.allocations.set_rows(summary.allocations)
        if keep is not None:
            for number, row in enumerate(summary.invoices):
                if row.id == keep:
                    self.invoice_table.selectRow(number)
        self._update_actions()
        self.summary_loaded.emit(summary)
        if self._written:
            self._written = False
            self.balance_changed.emit()

    def _load_failed(self, error: BaseException) -> None:
        self.banner.show_error(f"Billing could not be loaded: {message_for(error)}")

    # ----- selection and what is allowed ---------------------------------------------------

    def selected_invoice(self) -> InvoiceRow | None:
        row = selected_row(self.invoice_table)
        return None if row is None else self.invoices.row_at(row)

    def _selected_invoice_id(self) -> uuid.UUID | None:
        invoice = self.selected_invoice()
        return None if invoice is None else invoice.id

    def _update_actions(self) -> None:
        can = self.ctx.can
        invoice = self.selected_invoice()
        is_open = invoice is not None and invoice.status == InvoiceStatus.OPEN
        owing = invoice.balance_cents if invoice is not None and is_open else 0
        credit = self.summary.balance.credit_cents if self.summary else 0
        loaded = self.summary is not None

        allow(
            self.record_button,
            loaded and can(Permission.TAKE_PAYMENT),
            _denied(Permission.TAKE_PAYMENT) if loaded else "",
        )
        apply_reason = _apply_reason(invoice, owing, credit)
        for button in (self.apply_credit_button, self.apply_payment_button):
            if not can(Permission.APPLY_PAYMENT):
                allow(button, False, _denied(Permission.APPLY_PAYMENT))
            else:
                allow(button, not apply_reason, apply_reason)
        if not can(Permission.UNAPPLY_PAYMENT):
            allow(self.unapply_button, False, _denied(Permission.UNAPPLY_PAYMENT))
        elif invoice is None:
            allow(self.unapply_button, False, "Select an invoice a payment is applied to.")
        else:
            allow(
                self.unapply_button,
                invoice.applied_cents > 0,
                f"Nothing is applied to {invoice.number}.",
            )
        allow(
            self.items_button,
            loaded and can(Permission.CREATE_INVOICE),
            _denied(Permission.CREATE_INVOICE) if loaded else "",
        )
        if not can(Permission.DELETE_INVOICE):
            allow(self.delete_button, False, _denied(Permission.DELETE_INVOICE))
        else:
            allow(
                self.delete_button,
                is_open,
                "Select an invoice to delete." if invoice is None else "Already deleted.",
            )

    # ----- actions -------------------------------------------------------------------------

    def open_record_payment(self) -> None:
        if self.summary is None:
            return
        dialog = RecordPaymentDialog(
            self.patient_name,
            self.summary.invoices,
            self.ctx.clinic.currency,
            self.ctx.clinic.time_zone,
            self,
        )
        dialog.submitted.connect(lambda request: self._record_payment(dialog, request))
        dialog.open()

    def _record_payment(self, dialog: ActionDialog, request: PaymentRequest) -> None:
        actor, pid, ledger = self.ctx.actor, self.patient_id, self.ctx.services.ledger

        def done(result: PaymentResult) -> None:
            message = f"Payment of {self._money(request.amount_cents)} recorded"
            if result.to_credit_cents:
                message += f"; {self._money(result.to_credit_cents)} kept as credit"
            self.money_changed(message + ".")

        self._submit(
            dialog,
            lambda: ledger.record_payment(
                actor,
                pid,
                request.method,
                request.amount_cents,
                apply_to=request.apply_to,
                reference=request.reference,
            ),
            done,
        )

    def open_apply_credit(self) -> None:
        invoice = self.selected_invoice()
        if invoice is None or self.summary is None:
            return
        dialog = ApplyCreditDialog(
            invoice, self.summary.balance.credit_cents, self.ctx.clinic.currency, self
        )
        dialog.submitted.connect(lambda request: self._apply(dialog, request, invoice))
        dialog.open()

    def open_apply_payment(self) -> None:
        invoice = self.selected_invoice()
        if invoice is None or self.summary is None:
            return
        dialog = ApplyPaymentDialog(
            invoice,
            self.summary.payments,
            self.ctx.clinic.currency,
            self.ctx.clinic.time_zone,
            self,
        )
        dialog.submitted.connect(lambda request: self._apply(dialog, request, invoice))
        dialog.open()

    def _apply(self, dialog: ActionDialog, request: ApplyRequest, invoice: InvoiceRow) -> None:
        actor, ledger = self.ctx.actor, self.ctx.services.ledger
        payment_id = request.payment_id

        def work() -> int:
            if payment_id is None:
                return ledger.apply_credit(actor, request.invoice_id, request.amount_cents)
            return ledger.apply_payment(actor, payment_id, request.invoice_id, request.amount_cents)

        what = "of credit " if payment_id is None else ""
        self._submit(
            dialog,
            work,
            lambda amount: self.money_changed(
                f"{self._money(amount)} {what}applied to {invoice.number}."
            ),
        )

    def open_unapply(self) -> None:
        invoice = self.selected_invoice()
        if invoice is None or self.summary is None:
            return
        dialog = UnapplyDialog(
            invoice,
            self.summary.payments,
            self.summary.allocations,
            self.ctx.clinic.currency,
            self.ctx.clinic.time_zone,
            self,
        )
        dialog.submitted.connect(lambda request: self._unapply(dialog, request, invoice))
        dialog.open()

    def _unapply(self, dialog: ActionDialog, request: UnapplyRequest, invoice: InvoiceRow) -> None:
        actor, ledger = self.ctx.actor, self.ctx.services.ledger
        self._submit(
            dialog,
            lambda: ledger.unapply(
                actor, request.payment_id, request.invoice_id, request.amount_cents
            ),
            lambda amount: self.money_changed(
                f"{self._money(amount)} unapplied from {invoice.number}; it is now credit."
            ),
        )

    def open_invoice_items(self) -> None:
        actor = self.ctx.actor
        self.ctx.tasks.db(
            lambda: self.ctx.services.invoicing.products(actor),
            self._show_invoice_items,
            lambda error: self.banner.show_error(message_for(error)),
            owner=self,
        )

    def _show_invoice_items(self, products: list[ProductChoice]) -> None:
        dialog = InvoiceItemsDialog(self.patient_name, products, self.ctx.clinic.currency, self)
        dialog.submitted.connect(lambda lines: self._create_invoice(dialog, lines))
        dialog.open()

    def _create_invoice(self, dialog: ActionDialog, lines: list[LineSpec]) -> None:
        actor, pid, invoicing = self.ctx.actor, self.patient_id, self.ctx.services.invoicing
        self._submit(
            dialog, lambda: invoicing.create_invoice(actor, pid, lines), self._invoice_created
        )

    def _invoice_created(self, created: InvoiceCreated) -> None:
        self.money_changed(
            f"Invoice {created.number} for {self._money(created.total_cents)} created.",
            select=created.invoice_id,
        )

    def open_delete_invoice(self) -> None:
        invoice = self.selected_invoice()
        if invoice is None:
            return
        dialog = ConfirmDialog(
            "Delete invoice",
            f"Delete invoice {invoice.number} for {self._money(invoice.total_cents)}? "
            "It stays in the history, greyed, and no longer counts toward the balance.",
            "Delete invoice",
            self,
        )
        dialog.submitted.connect(lambda _request: self._delete_invoice(dialog, invoice))
        dialog.open()

    def _delete_invoice(self, dialog: ActionDialog, invoice: InvoiceRow) -> None:
        # The refusal ("Unapply the payment first") belongs on the tab, next to the tables
        # where the payment can be unapplied, so the question closes straight away.
        dialog.finish()
        actor, invoicing = self.ctx.actor, self.ctx.services.invoicing
        self.ctx.tasks.db(
            lambda: invoicing.delete_invoice(actor, invoice.id),
            lambda _none: self.money_changed(f"Invoice {invoice.number} deleted."),
            lambda error: self.banner.show_error(message_for(error)),
            owner=self,
        )

    # ----- helpers -------------------------------------------------------------------------

    def _submit(
        self, dialog: ActionDialog, work: Callable[[], T], on_done: Callable[[T], None]
    ) -> None:
        self.banner.clear_message()
        submit_from(self.ctx, self, dialog, work, on_done)

    def _money(self, minor: int) -> str:
        return format_money(minor, self.ctx.clinic.currency)


def _denied(permission: Permission) -> str:
    return f"You do not have permission to {permission.value}."


def _apply_reason(invoice: InvoiceRow | None, owing: int, credit: int) -> str:
    if invoice is None:
        return "Select an invoice with a balance."
    if owing <= 0:
        return f"{invoice.number} has nothing owing."
    if credit <= 0:
        return "There is no credit or unapplied payment to apply."
    return ""
