"""What `desk-app --self-test` asks of the services: a real receipt from the demo clinic."""

from __future__ import annotations

from sqlalchemy import select

from desk_app.models.billing import Allocation, Payment
from desk_app.services.actor import Actor
from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.errors import NotFound
from desk_app.services.receipts import load_receipts
from desk_app.services.registry import Services


def first_payment_receipt(services: Services, actor: Actor) -> PdfDocument:
    """The payment receipt of the clinic's earliest applied payment, as PDF."""
    db = services.db
    with db.reading() as s:
        payment = s.execute(
            select(Payment.id, Payment.patient_id)
            .join(Allocation, Allocation.payment_id == Payment.id)
            .order_by(Payment.created_at, Payment.id)
            .limit(1)
        ).first()
        if payment is None:
            raise NotFound("The clinic has no payment applied to an invoice to print.")
        receipts = load_receipts(s, payment.patient_id, {payment.id})
    if not receipts:
        raise NotFound("The clinic's first payment has no receipt.")
    return services.documents.payment_receipts(actor, payment.patient_id, receipts[:1])
