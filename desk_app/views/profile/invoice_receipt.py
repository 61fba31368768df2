"""The Billing tab's Receipt action: the selected invoice's detailed receipt, for an insurer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.views.profile.document_dialog import DocumentDialog

if TYPE_CHECKING:
    from desk_app.views.profile.billing_tab import BillingTab


def open_invoice_receipt(tab: BillingTab) -> None:
    """Build the receipt on the database thread, then show it (print, save or email there)."""
    invoice = tab.selected_invoice()
    if invoice is None:
        return
    actor, documents = tab.ctx.actor, tab.ctx.services.documents

    def show(document: PdfDocument) -> None:
        DocumentDialog(tab.ctx, document, tab.patient_id, tab).open()

    tab.banner.clear_message()
    tab.call(
        lambda: documents.invoice_receipt(actor, invoice.id),
        show,
        f"The receipt for {invoice.number} could not be made: ",
    )
