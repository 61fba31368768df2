"""Send 1-Time Payment Link, from an invoice's action menu (right-click on the Billing tab's
invoices, or the context-menu key): emails the patient a link to pay that invoice, then a
green confirmation says it was sent."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from desk_app.models.billing_notices import NoticeStatus
from desk_app.models.enums import InvoiceStatus
from desk_app.services.billing_notices import NoticeRow
from desk_app.services.permissions import Permission
from desk_app.views.profile.billing_tab import BillingTab
from desk_app.views.profile.failures import message_for

ACTION_LABEL = "Send 1-Time Payment Link"
NEEDS_BILLING = "Sending a 1-time payment link needs the Billing permission."


def install_invoice_link_menu(tab: BillingTab, sent: Callable[[NoticeRow], None]) -> None:
    """Give the invoice table an action menu with Send 1-Time Payment Link."""
    table = tab.invoice_table
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    table.customContextMenuRequested.connect(
        lambda point: invoice_menu(tab, sent).popup(table.viewport().mapToGlobal(point))
        if isinstance(point, QPoint) else None)


def invoice_menu(tab: BillingTab, sent: Callable[[NoticeRow], None]) -> QMenu:
    menu = QMenu(tab)
    menu.setAccessibleName("Invoice actions")
    action = QAction(ACTION_LABEL, menu)
    invoice = tab.selected_invoice()
    if not tab.ctx.can(Permission.SEND_PAYMENT_LINKS):
        action.setEnabled(False)
        action.setToolTip(NEEDS_BILLING)
    elif invoice is None or invoice.status != InvoiceStatus.OPEN or invoice.balance_cents <= 0:
        action.setEnabled(False)
        action.setToolTip("Select an open invoice with a balance.")
    action.triggered.connect(lambda: send_invoice_link(tab, sent))
    menu.addAction(action)
    menu.setToolTipsVisible(True)
    return menu


def send_invoice_link(tab: BillingTab, sent: Callable[[NoticeRow], None]) -> None:
    invoice = tab.selected_invoice()
    if invoice is None:
        return
    notices, actor, invoice_id = tab.ctx.services.billing_notices, tab.ctx.actor, invoice.id
    tab.banner.clear_message()

    def done(row: NoticeRow) -> None:
        if row.status is NoticeStatus.SENT:
            tab.banner.show_success(
                f"1-time payment link for {invoice.number} sent to {row.recipient}.")
        elif row.status is NoticeStatus.NOT_SENT:
            tab.banner.show_error("Not sent: no email provider is configured; the email is in "
                                  "the outbox.")
        else:
            tab.banner.show_error(row.status_label)
        sent(row)

    tab.ctx.tasks.network(
        lambda: notices.send_invoice_link(actor, invoice_id), done,
        lambda error: tab.banner.show_error(message_for(error)), owner=tab)
