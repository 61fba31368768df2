"""The Billing tab: invoices, payments, what is applied where, and the actions on them."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from desk_app.models.enums import InvoiceStatus
from desk_app.services.ledger import BillingSummary, InvoiceRow
from desk_app.services.permissions import Permission
from desk_app.views.profile import billing_dialogs as dialogs
from desk_app.views.profile.billing_models import (
    AllocationsModel,
    InvoicesModel,
    PaymentsModel,
    payment_label,
)
from desk_app.views.profile.invoice_receipt import open_invoice_receipt
from desk_app.views.profile.tab_parts import TableTab, action_button, allow
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.view_context import ViewContext

DATE_SAMPLE = "Sep 30, 2026"
AMOUNT_SAMPLE = "$10,000.00"


class BillingTab(TableTab):
    #: A fresh summary arrived (the header shows its balance).
    summary_loaded = Signal(object)
    #: A write changed what the patient owes or holds, and the summary shows it.
    balance_changed = Signal()

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, patient_id, parent)
        self.summary: BillingSummary | None = None
        self._written = False
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
                PaymentsModel.COLLECTED_BY: "Jordan Reyes at DESK10",
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

        self.record_button = action_button(
            "Record payment…", lambda: dialogs.open_record_payment(self)
        )
        self.record_button.setProperty("primary", True)
        self.apply_credit_button = action_button(
            "Apply credit", lambda: dialogs.open_apply_credit(self)
        )
        self.apply_payment_button = action_button(
            "Apply payment…", lambda: dialogs.open_apply_payment(self)
        )
        self.unapply_button = action_button("Unapply…", lambda: dialogs.open_unapply(self))
        self.items_button = action_button(
            "Invoice items…", lambda: dialogs.open_invoice_items(self)
        )
        self.delete_button = action_button(
            "Delete invoice", lambda: dialogs.open_delete_invoice(self)
        )
        self.receipt_button = action_button("Receipt", lambda: open_invoice_receipt(self))

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (
            self.record_button,
            self.apply_credit_button,
            self.apply_payment_button,
            self.unapply_button,
            self.items_button,
            self.receipt_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)

        self.lay_out(
            buttons,
            [
                ("Invoices", self.invoice_table, 4),
                ("Payments", self.payment_table, 3),
                ("Applied where", self.allocation_table, 2),
            ],
        )
        self._update_actions()

    # ----- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        actor, pid = self.ctx.actor, self.patient_id
        self.call(
            lambda: self.ctx.services.ledger.billing_summary(actor, pid),
            self._loaded,
            "Billing could not be loaded: ",
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
        keep = self._row_to_select()
        self.summary = summary
        tz = self.ctx.clinic.time_zone
        self.invoices.set_rows(summary.invoices)
        self.payments.set_rows(summary.payments)
        self.allocations.payment_labels = {
            p.id: payment_label(p, self.ctx.clinic.currency, tz) for p in summary.payments
        }
        self.allocations.set_rows(summary.allocations)
        if keep is not None:
            select_id(self.invoice_table, summary.invoices, keep)
        self._update_actions()
        self.summary_loaded.emit(summary)
        if self._written:
            self._written = False
            self.balance_changed.emit()

    # ----- selection and what is allowed ---------------------------------------------------

    def selected_invoice(self) -> InvoiceRow | None:
        row = selected_row(self.invoice_table)
        return None if row is None else self.invoices.row_at(row)

    def selected_id(self) -> uuid.UUID | None:
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
        allow(
            self.receipt_button,
            is_open,
            "Select an invoice for its receipt." if invoice is None else "Deleted: no receipt.",
        )
        if not can(Permission.DELETE_INVOICE):
            allow(self.delete_button, False, _denied(Permission.DELETE_INVOICE))
        else:
            allow(
                self.delete_button,
                is_open,
                "Select an invoice to delete." if invoice is None else "Already deleted.",
            )


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
