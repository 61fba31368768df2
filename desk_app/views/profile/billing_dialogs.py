"""What the Billing tab's buttons open: a dialog, then the write it asks for, then the reload.

Each `open_*` takes the tab. The dialog stays open until its call comes back (see
`background.submit_from`); a write that is done ends in `BillingTab.money_changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desk_app.models.money import format_money
from desk_app.services.invoicing import InvoiceCreated, LineSpec, ProductChoice
from desk_app.services.ledger import BillingSummary, InvoiceRow, PaymentResult
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.apply_dialog import ApplyCreditDialog, ApplyPaymentDialog, ApplyRequest
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.invoice_items_dialog import InvoiceItemsDialog
from desk_app.views.profile.record_payment_dialog import PaymentRequest, RecordPaymentDialog
from desk_app.views.profile.unapply_dialog import UnapplyDialog, UnapplyRequest

if TYPE_CHECKING:
    from desk_app.views.profile.billing_tab import BillingTab


def open_record_payment(tab: BillingTab) -> None:
    if tab.summary is None:
        return
    dialog = RecordPaymentDialog(
        tab.patient_name,
        tab.summary.invoices,
        tab.ctx.clinic.currency,
        tab.ctx.clinic.time_zone,
        tab,
    )
    _open(dialog, lambda request: _record_payment(tab, dialog, request))


def _record_payment(tab: BillingTab, dialog: ActionDialog, request: PaymentRequest) -> None:
    actor, pid, ledger = tab.ctx.actor, tab.patient_id, tab.ctx.services.ledger

    def done(result: PaymentResult) -> None:
        message = f"Payment of {_money(tab, request.amount_cents)} recorded"
        if result.to_credit_cents:
            message += f"; {_money(tab, result.to_credit_cents)} kept as credit"
        tab.money_changed(message + ".")

    tab.submit(
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


def open_apply_credit(tab: BillingTab) -> None:
    _open_on_invoice(
        tab,
        lambda invoice, summary: ApplyCreditDialog(
            invoice, summary.balance.credit_cents, tab.ctx.clinic.currency, tab
        ),
        _apply,
    )


def open_apply_payment(tab: BillingTab) -> None:
    _open_on_invoice(
        tab,
        lambda invoice, summary: ApplyPaymentDialog(
            invoice,
            summary.payments,
            tab.ctx.clinic.currency,
            tab.ctx.clinic.time_zone,
            tab,
        ),
        _apply,
    )


def _apply(
    tab: BillingTab, dialog: ActionDialog, request: ApplyRequest, invoice: InvoiceRow
) -> None:
    actor, ledger = tab.ctx.actor, tab.ctx.services.ledger
    payment_id = request.payment_id

    def work() -> int:
        if payment_id is None:
            return ledger.apply_credit(actor, request.invoice_id, request.amount_cents)
        return ledger.apply_payment(actor, payment_id, request.invoice_id, request.amount_cents)

    what = "of credit " if payment_id is None else ""
    tab.submit(
        dialog,
        work,
        lambda amount: tab.money_changed(
            f"{_money(tab, amount)} {what}applied to {invoice.number}."
        ),
    )


def open_unapply(tab: BillingTab) -> None:
    _open_on_invoice(
        tab,
        lambda invoice, summary: UnapplyDialog(
            invoice,
            summary.payments,
            summary.allocations,
            tab.ctx.clinic.currency,
            tab.ctx.clinic.time_zone,
            tab,
        ),
        _unapply,
    )


def _unapply(
    tab: BillingTab, dialog: ActionDialog, request: UnapplyRequest, invoice: InvoiceRow
) -> None:
    actor, ledger = tab.ctx.actor, tab.ctx.services.ledger
    tab.submit(
        dialog,
        lambda: ledger.unapply(actor, request.payment_id, request.invoice_id, request.amount_cents),
        lambda amount: tab.money_changed(
            f"{_money(tab, amount)} unapplied from {invoice.number}; it is now credit."
        ),
    )


def open_invoice_items(tab: BillingTab) -> None:
    actor = tab.ctx.actor
    tab.call(
        lambda: tab.ctx.services.invoicing.products(actor),
        lambda products: _show_invoice_items(tab, products),
    )


def _show_invoice_items(tab: BillingTab, products: list[ProductChoice]) -> None:
    dialog = InvoiceItemsDialog(tab.patient_name, products, tab.ctx.clinic.currency, tab)
    _open(dialog, lambda lines: _create_invoice(tab, dialog, lines))


def _create_invoice(tab: BillingTab, dialog: ActionDialog, lines: list[LineSpec]) -> None:
    actor, pid, invoicing = tab.ctx.actor, tab.patient_id, tab.ctx.services.invoicing

    def done(created: InvoiceCreated) -> None:
        tab.money_changed(
            f"Invoice {created.number} for {_money(tab, created.total_cents)} created.",
            select=created.invoice_id,
        )

    tab.submit(dialog, lambda: invoicing.create_invoice(actor, pid, lines), done)


def open_delete_invoice(tab: BillingTab) -> None:
    invoice = tab.selected_invoice()
    if invoice is None:
        return
    dialog = ConfirmDialog(
        "Delete invoice",
        f"Delete invoice {invoice.number} for {_money(tab, invoice.total_cents)}? "
        "It stays in the history, greyed, and no longer counts toward the balance.",
        "Delete invoice",
        tab,
    )
    _open(dialog, lambda _request: _delete_invoice(tab, dialog, invoice))


def _delete_invoice(tab: BillingTab, dialog: ActionDialog, invoice: InvoiceRow) -> None:
    # The refusal ("Unapply the payment first") belongs on the tab, next to the tables
    # where the payment can be unapplied, so the question closes straight away.
    dialog.finish()
    actor, invoicing = tab.ctx.actor, tab.ctx.services.invoicing
    tab.call(
        lambda: invoicing.delete_invoice(actor, invoice.id),
        lambda _none: tab.money_changed(f"Invoice {invoice.number} deleted."),
    )


# ----- helpers -----------------------------------------------------------------------------


def _open(dialog: ActionDialog, on_submitted: Callable[[Any], None]) -> None:
    dialog.submitted.connect(on_submitted)
    dialog.open()


def _open_on_invoice(
    tab: BillingTab,
    make: Callable[[InvoiceRow, BillingSummary], ActionDialog],
    then: Callable[[BillingTab, ActionDialog, Any, InvoiceRow], None],
) -> None:
    """Open the dialog `make` builds for the selected invoice, once billing has loaded; what
    it submits goes to `then`."""
    invoice = tab.selected_invoice()
    if invoice is None or tab.summary is None:
        return
    dialog = make(invoice, tab.summary)
    _open(dialog, lambda request: then(tab, dialog, request, invoice))


def _money(tab: BillingTab, minor: int) -> str:
    return format_money(minor, tab.ctx.clinic.currency)
