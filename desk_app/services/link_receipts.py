"""The patient's own receipt, emailed as a PDF once a payment link is paid.

Stripe's hosted Checkout page shows no receipt to download, and its ``receipt_email`` only
goes out when the link went by email. So when the desk records a paid link
(``link_payments``), the same transaction marks the notice's receipt as due ("pending") if
the patient has an email address and agreed to receive emails. Then the desk that recorded it
claims it (the notice row locked: FOR UPDATE on PostgreSQL, the database-file lock on SQLite;
"pending" becomes "sending" once, so two desks never both send it), builds our PDF receipt(s)
of that payment (services.documents), sends it through the same mailer as the notices (or
the outbox), and records "sent", "not_sent" or "failed" with an audit event. A receipt still
"pending" because the desk stopped before claiming it is sent by that desk's next link check.

The email says the clinic, the amount and the date: no treatment or provider (those are in
the PDF, which is the patient's receipt).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.billing import Payment
from desk_app.models.billing_notices import BillingNotice
from desk_app.models.clinic import Clinic
from desk_app.models.money import format_money
from desk_app.models.patient import Patient
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import to_clinic_time
from desk_app.services.contact_checks import valid_email
from desk_app.services.db import Database
from desk_app.services.documents.parties import branding_of, party_of
from desk_app.services.errors import ServiceError, ValidationError
from desk_app.services.mail import Mailer, OutgoingEmail, mask_address
from desk_app.services.receipts import load_receipts

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, NOT_SENT, FAILED = "pending", "sending", "sent", "not_sent", "failed"


def mark_receipt_due(s: Session, notice: BillingNotice) -> None:
    """In the transaction that records the paid link: the receipt is due when the patient has
    a valid email address and agreed to receive emails."""
    patient = s.get_one(Patient, notice.patient_id)
    if not patient.consent_emails or not patient.email.strip():
        return
    try:
        notice.receipt_to = valid_email(patient.email)
    except ValidationError:
        return
    notice.receipt_status = PENDING


@dataclass(frozen=True, slots=True)
class _Prepared:
    email: OutgoingEmail
    reference: str
    amount: str


class LinkReceiptSender:
    def __init__(self, db: Database, mailer: Mailer, lock: threading.Lock) -> None:
        self.db = db
        self.mailer = mailer
        self._lock = lock

    def due(self, clinic_id: uuid.UUID, workstation: str) -> list[uuid.UUID]:
        """Receipts due for payments this workstation recorded: the desk that recorded the
        payment sends its receipt (with sync, another desk's cache may briefly show one as
        pending that its own desk is sending)."""
        with self.db.reading() as s:
            return list(s.scalars(
                select(BillingNotice.id).join(Payment, Payment.id == BillingNotice.payment_id)
                .where(BillingNotice.receipt_status == PENDING,
                       BillingNotice.clinic_id == clinic_id,
                       Payment.workstation == workstation)
                .order_by(BillingNotice.paid_at)))

    def send_due(self, actor: Actor | None, notice_ids: Sequence[uuid.UUID]) -> list[str]:
        """Send each due receipt this desk can claim; the problems, for the desk to see."""
        problems = []
        for notice_id in notice_ids:
            prepared = self._claim(notice_id)
            if prepared is None:
                continue  # not due, or another desk has it
            try:
                delivery = self.mailer.deliver(prepared.email)
            except ServiceError as exc:
                self._record(actor, notice_id, prepared, FAILED, exc.message)
                problems.append(f"The receipt email was not sent: {exc.message}")
                continue
            self._record(actor, notice_id, prepared, SENT if delivery.sent else NOT_SENT,
                         "" if delivery.sent else f"saved to {delivery.outbox_path}")
        return problems

    def _claim(self, notice_id: uuid.UUID) -> _Prepared | None:
        with self._lock, self.db.transaction() as s:
            notice = s.scalar(select(BillingNotice).where(BillingNotice.id == notice_id)
                              .with_for_update())
            if notice is None or notice.receipt_status != PENDING or notice.payment_id is None:
                return None
            notice.receipt_status = SENDING
            prepared = self._prepare(s, notice)
            s.flush()
            return prepared

    @staticmethod
    def _prepare(s: Session, notice: BillingNotice) -> _Prepared:
        from desk_app.services.documents.payment_receipt import build_payment_receipts

        assert notice.payment_id is not None
        clinic = s.get_one(Clinic, notice.clinic_id)
        patient = s.get_one(Patient, notice.patient_id)
        payment = s.get_one(Payment, notice.payment_id)
        receipts = load_receipts(s, notice.patient_id, {payment.id})
        branding = branding_of(clinic)
        pdf = build_payment_receipts(branding, party_of(patient), receipts)
        amount = format_money(payment.amount_cents, clinic.currency)
        day = to_clinic_time(payment.received_at, clinic.time_zone)
        when = f"{day.strftime('%b')} {day.day}, {day.year}"
        reference = ", ".join(r.number for r in receipts)
        first = (patient.preferred_name or patient.legal_first_name).strip()
        contact = " · ".join(v for v in (clinic.phone, clinic.email) if v)
        lines = [f"Hello{', ' + first if first else ''},", "",
                 f"Thank you for your payment of {amount} to {clinic.name} on {when} "
                 f"({payment.reference}).",
                 "Your receipt is attached as a PDF to download or print.", "",
                 "Thank you,", clinic.name]
        if contact:
            lines.append(contact)
        filename = (f"receipt-{receipts[0].number}.pdf" if len(receipts) == 1
                    else f"receipts-{payment.id.hex[:8]}.pdf")
        email = OutgoingEmail(
            to=notice.receipt_to, subject=f"Your receipt from {clinic.name}",
            body="\n".join(lines) + "\n", from_name=clinic.name, reply_to=clinic.email,
            attachment_name=filename, attachment=pdf)
        return _Prepared(email, reference, amount)

    def _record(self, actor: Actor | None, notice_id: uuid.UUID, prepared: _Prepared,
                status: str, reason: str) -> None:
        with self._lock, self.db.transaction() as s:
            notice = s.scalar(select(BillingNotice).where(BillingNotice.id == notice_id)
                              .with_for_update())
            if notice is None:
                return
            notice.receipt_status = status
            notice.receipt_failure = reason[:500] if status == FAILED else ""
            s.flush()
            outcome = {SENT: "emailed", NOT_SENT: "saved to the outbox",
                       FAILED: "not sent"}[status]
            audit.record(
                s, actor, "receipt.emailed" if status != FAILED else "receipt.email_failed",
                entity=notice, patient_id=notice.patient_id, workstation=notice.workstation
                if actor is None else None,
                summary=f"Receipt for the {prepared.amount} paid by link {outcome}",
                details={"document": "receipt", "reference": prepared.reference,
                         "notice": str(notice_id), "to": mask_address(notice.receipt_to),
                         "delivery": status, "reason": reason[:200]})
