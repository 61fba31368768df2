"""The documents the desk prints, saves or emails for a patient: receipts, statements, superbills.

Each method reads what its document needs in one read-only session and lays it out (reportlab;
a one-page receipt takes a few milliseconds). The view runs them on the database thread.
Emailing is three steps so the network call never holds the database: `prepare_email` (here),
sending it (services.mail, on the network pool), then `record_emailed` for the audit trail.

The layout modules (reportlab, about a quarter of a second to import) are imported on first
use, not when the app starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from desk_app.models.billing import Invoice
from desk_app.models.clinic import Clinic
from desk_app.models.enums import InvoiceStatus
from desk_app.models.money import format_money
from desk_app.models.patient import Patient
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_today
from desk_app.services.db import Database
from desk_app.services.documents.parties import Branding, Party, branding_of, party_of
from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.invoice_details import load_invoice_detail, services_in_period
from desk_app.services.mail import Delivery, OutgoingEmail, check_address, mask_address
from desk_app.services.patient_access import require_patient, require_patient_of
from desk_app.services.permissions import Permission, require
from desk_app.services.receipts import PAGE_SIZE, Receipt, check_period, load_receipts
from desk_app.services.statements import load_statement, period_bounds

#: The longest period a statement or superbill may cover: ten years of visits.
MAX_PERIOD_DAYS = 3660

_EMAIL_SUBJECTS = {
    "receipt": "Your receipt from {clinic}",
    "statement": "Your statement from {clinic}",
    "superbill": "Your superbill from {clinic}",
}


@dataclass(frozen=True, slots=True)
class EmailRecord:
    """What `record_emailed` writes to the audit trail about an email once it went out."""

    document: PdfDocument
    to: str
    delivery: Delivery


class PatientDocumentsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- documents ---------------------------------------------------------------------

    def payment_receipts(
        self, actor: Actor, patient_id: uuid.UUID, shown: Sequence[Receipt]
    ) -> PdfDocument:
        """The receipts `shown` (one, or a page's 10) in one PDF, each from a new page.

        They are read again from the ledger (only their payments: fast for a long history),
        so the PDF says what is true now; one unapplied since the list was shown is refused.
        """
        require(actor, Permission.VIEW_PATIENTS)
        wanted = list(dict.fromkeys(r.number for r in shown))
        if not wanted:
            raise ValidationError("Choose a receipt first.")
        if len(wanted) > PAGE_SIZE:
            raise ValidationError(f"At most {PAGE_SIZE} receipts go in one file.")
        payment_ids = {r.payment_id for r in shown}
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            branding, patient = self._parties(s, actor, patient_id)
            by_number = {r.number: r for r in load_receipts(s, patient_id, payment_ids)}
            missing = [n for n in wanted if n not in by_number]
            if missing:
                raise NotFound(
                    f"Receipt {missing[0]} no longer exists: a payment was unapplied since the "
                    "list was shown. Reload the receipts and try again."
                )
            receipts = [by_number[n] for n in wanted]
        from desk_app.services.documents.payment_receipt import (
            build_payment_receipts,
            receipt_title,
        )

        data = build_payment_receipts(branding, patient, receipts)
        if len(receipts) == 1:
            only = receipts[0]
            return PdfDocument(
                kind="receipt",
                title=f"{receipt_title(only)} {only.number}",
                filename=f"receipt-{only.number}.pdf",
                data=data,
                reference=only.number,
                amount_cents=only.amount_cents,
            )
        return PdfDocument(
            kind="receipt",
            title=f"{len(receipts)} receipts",
            filename=f"receipts-{receipts[-1].number}-to-{receipts[0].number}.pdf",
            data=data,
            reference=", ".join(r.number for r in receipts),
            amount_cents=sum(r.amount_cents for r in receipts),
        )

    def invoice_receipt(self, actor: Actor, invoice_id: uuid.UUID) -> PdfDocument:
        """The detailed receipt of one invoice, for an insurance claim."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient_of(s, actor, Invoice, invoice_id)
            invoice = load_invoice_detail(s, invoice_id)
            if invoice is None:
                raise NotFound("That invoice no longer exists.")
            if invoice.status != InvoiceStatus.OPEN:
                raise Conflict(f"Invoice {invoice.number} was deleted; it has no receipt.")
            branding, patient = self._parties(s, actor, invoice.patient_id)
            today = clinic_today(self.db.clock, branding.time_zone)
        from desk_app.services.documents.invoice_receipt import build_invoice_receipt

        data = build_invoice_receipt(branding, patient, invoice, today)
        return PdfDocument(
            kind="receipt",
            title=f"Receipt for invoice {invoice.number}",
            filename=f"invoice-receipt-{invoice.number}.pdf",
            data=data,
            reference=invoice.number,
            amount_cents=invoice.paid_cents,
        )

    def statement(self, actor: Actor, patient_id: uuid.UUID, start: date, end: date) -> PdfDocument:
        """The statement of account from `start` to `end` (clinic days, both included)."""
        require(actor, Permission.VIEW_PATIENTS)
        _check_document_period(start, end)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            branding, patient = self._parties(s, actor, patient_id)
            statement = load_statement(s, patient_id, start, end, branding.time_zone)
            today = clinic_today(self.db.clock, branding.time_zone)
        from desk_app.services.documents.statement import build_statement, period_text

        return _period_document(
            "statement",
            f"Statement of account, {period_text(statement, branding)}",
            start,
            end,
            build_statement(branding, patient, statement, today),
            statement.closing_cents,
        )

    def superbill(self, actor: Actor, patient_id: uuid.UUID, start: date, end: date) -> PdfDocument:
        """The superbill for services from `start` to `end` (US out-of-network claims)."""
        require(actor, Permission.VIEW_PATIENTS)
        _check_document_period(start, end)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            branding, patient = self._parties(s, actor, patient_id)
            first, after = period_bounds(start, end, branding.time_zone)
            services = services_in_period(s, patient_id, first, after)
            today = clinic_today(self.db.clock, branding.time_zone)
        from desk_app.services.documents.superbill import build_superbill

        return _period_document(
            "superbill",
            f"Superbill, {start.isoformat()} to {end.isoformat()}",
            start,
            end,
            build_superbill(branding, patient, services, start, end, today),
            services.charges_cents,
        )

    # ----- email -------------------------------------------------------------------------

    def email_address(self, actor: Actor, patient_id: uuid.UUID) -> str:
        """Where the patient's documents go by default: the bill-to email, else their own."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            person = self._patient(s, actor, patient_id)
            return person.bill_to_email or person.email

    def prepare_email(
        self, actor: Actor, patient_id: uuid.UUID, document: PdfDocument, to: str
    ) -> OutgoingEmail:
        """The email carrying `document`: the clinic, the amount and the PDF, nothing clinical."""
        require(actor, Permission.EMAIL_DOCUMENTS)
        address = check_address(to)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            branding, _party = self._parties(s, actor, patient_id)
            person = self._patient(s, actor, patient_id)
            first_name = person.preferred_name or person.legal_first_name
        return OutgoingEmail(
            to=address,
            subject=_EMAIL_SUBJECTS.get(document.kind, _EMAIL_SUBJECTS["receipt"]).format(
                clinic=branding.name
            ),
            body=_email_body(branding, first_name, document),
            from_name=branding.name,
            reply_to=branding.email,
            attachment_name=document.filename,
            attachment=document.data,
        )

    def record_emailed(self, actor: Actor, patient_id: uuid.UUID, record: EmailRecord) -> None:
        """Write the audit event for a document that was emailed (or left in the outbox)."""
        require(actor, Permission.EMAIL_DOCUMENTS)
        document = record.document
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            outcome = "emailed" if record.delivery.sent else "saved to the outbox"
            audit.record(
                s,
                actor,
                f"{document.kind}.emailed",
                patient_id=patient_id,
                summary=f"{document.title} {outcome}",
                details={
                    "document": document.kind,
                    "reference": document.reference,
                    "to": mask_address(record.to),
                    "delivery": "sent" if record.delivery.sent else "outbox",
                },
            )

    # ----- helpers -----------------------------------------------------------------------

    @staticmethod
    def _parties(s: Session, actor: Actor, patient_id: uuid.UUID) -> tuple[Branding, Party]:
        """The clinic's branding and the patient, read while the session is open."""
        patient = PatientDocumentsService._patient(s, actor, patient_id)
        return branding_of(s.get_one(Clinic, actor.clinic_id)), party_of(patient)

    @staticmethod
    def _patient(s: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
        patient = s.get(Patient, patient_id)
        if patient is None or patient.clinic_id != actor.clinic_id:
            raise NotFound("That patient no longer exists.")
        return patient


def _check_document_period(start: date, end: date) -> None:
    check_period(start, end)
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError("Choose a period of at most ten years.", "period")


def _period_document(
    kind: str, title: str, start: date, end: date, data: bytes, amount_cents: int
) -> PdfDocument:
    """A statement or superbill: its file is named, and it is referred to, by its period."""
    return PdfDocument(
        kind=kind,
        title=title,
        filename=f"{kind}-{start.isoformat()}-to-{end.isoformat()}.pdf",
        data=data,
        reference=f"{start.isoformat()} to {end.isoformat()}",
        amount_cents=amount_cents,
    )


def _email_body(branding: Branding, first_name: str, document: PdfDocument) -> str:
    amount = format_money(document.amount_cents, branding.currency)
    if document.kind == "statement":
        middle = f"Attached is your statement of account. The balance on it is {amount}."
    elif document.kind == "superbill":
        middle = (
            f"Attached is your superbill ({amount} in charges) to send to your insurance company."
        )
    else:
        middle = f"Attached is your receipt for {amount}. Thank you for your payment."
    contact = " · ".join(v for v in (branding.phone, branding.email) if v)
    lines = [f"Hello {first_name},", "", middle, "", "Thank you,", branding.name]
    if contact:
        lines.append(contact)
    return "\n".join(lines) + "\n"
