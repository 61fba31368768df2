"""After a paid link is recorded, the patient gets our own PDF receipt by email (a real SMTP
server receives it): once, only with an address and consent, audited, nothing clinical in the
email itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk_app.models import AuditEvent, NoticeChannel, Patient
from desk_app.services.mail import Mailer, SmtpSecurity, SmtpSettings
from tests.notice_fixtures import MADDY_EMAIL, NoticeClinic
from tests.pdf_checks import pdf_text
from tests.smtp_fixtures import SMTP_USER, free_port

CLINIC = "Maple Grove Wellness"
MASSAGE_TOTAL = "$124.30"


def _consent(c: NoticeClinic, emails: bool = True, email: str = MADDY_EMAIL) -> None:
    with c.db.transaction() as s:
        patient = s.get_one(Patient, c.patient_id)
        patient.consent_emails = emails
        patient.email = email


def _pay_by_text(c: NoticeClinic) -> None:
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id)  # type: ignore[union-attr]


def _receipt_events(c: NoticeClinic) -> list[AuditEvent]:
    with c.db.reading() as s:
        rows = list(s.scalars(select(AuditEvent).where(
            AuditEvent.action.like("receipt.%"))))
        s.expunge_all()
        return rows


def test_a_paid_text_link_emails_the_patient_a_pdf_receipt(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    _consent(c)
    _pay_by_text(c)

    report = c.services.link_payments.check_open_links(c.desk)

    assert report.paid and not report.receipt_problems
    (message,) = c.smtp.inbox.messages  # type: ignore[union-attr]
    assert message["To"] == MADDY_EMAIL
    assert message["From"] == f"{CLINIC} <{SMTP_USER}>"
    assert message["Subject"] == f"Your receipt from {CLINIC}"
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hello, Maddy" in body and MASSAGE_TOTAL in body and "Visa •••• 4242" in body
    assert "Massage" not in body and "Okoye" not in body  # no treatment, no provider
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert MASSAGE_TOTAL in text and "Payment receipt" in text and "Madeleine" in text
    (notice,) = c.notices()
    assert notice.receipt_status == "sent" and notice.receipt_to == MADDY_EMAIL
    (event,) = _receipt_events(c)
    assert event.action == "receipt.emailed" and "m***@example.com" in str(event.details)


def test_the_receipt_goes_once_however_often_the_links_are_checked(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    _consent(c)
    _pay_by_text(c)
    for _ in range(3):
        c.services.link_payments.check_open_links(c.desk)
    assert len(c.smtp.inbox.messages) == 1  # type: ignore[union-attr]
    assert len(_receipt_events(c)) == 1


def test_no_receipt_email_without_consent(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    _consent(c, emails=False)
    _pay_by_text(c)
    c.services.link_payments.check_open_links(c.desk)
    assert c.smtp.inbox.messages == []  # type: ignore[union-attr]
    (notice,) = c.notices()
    assert notice.receipt_status == "" and _receipt_events(c) == []


def test_a_receipt_that_could_not_be_sent_is_recorded_failed_and_the_payment_stands(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    _consent(c)
    _pay_by_text(c)
    # An email provider that is not there (nothing listens on the port).
    c.services.link_payments.receipts.mailer = Mailer(SmtpSettings(
        host="127.0.0.1", port=free_port(), security=SmtpSecurity.NONE, timeout_seconds=2.0),
        clock=c.db.clock)
    report = c.services.link_payments.check_open_links(c.desk)
    assert report.paid and report.receipt_problems
    assert "receipt email" in report.summary
    (notice,) = c.notices()
    assert notice.receipt_status == "failed" and "could not be reached" in notice.receipt_failure
    assert [e.action for e in _receipt_events(c)] == ["receipt.email_failed"]
    assert c.owing() == 0


def test_with_no_email_provider_the_receipt_goes_to_the_outbox(
        notice_clinic: NoticeClinic, tmp_path: object) -> None:
    from pathlib import Path

    c = notice_clinic
    _consent(c)
    outbox = Path(str(tmp_path)) / "outbox"
    c.services.link_payments.receipts.mailer = Mailer(clock=c.db.clock, outbox=lambda: outbox)
    _pay_by_text(c)
    c.services.link_payments.check_open_links(c.desk)
    (saved,) = outbox.glob("*.eml")
    assert b"Your receipt from" in saved.read_bytes()
    (notice,) = c.notices()
    assert notice.receipt_status == "not_sent"


def test_the_checkout_stand_in_reflects_invoice_creation_as_stripe_documents(
        notice_clinic: NoticeClinic) -> None:
    import stripe

    c = notice_clinic
    assert c.checkout is not None
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": c.checkout.url},
                                 max_network_retries=0)
    params = {"mode": "payment", "success_url": "https://clinic.example/paid",
              "line_items": [{"quantity": 1, "price_data": {
                  "currency": "cad", "unit_amount": 500, "product_data": {"name": "x"}}}]}
    plain = client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    assert plain.invoice_creation is not None and plain.invoice is None
    assert plain.invoice_creation.enabled is False
    with_invoice = client.v1.checkout.sessions.create(
        {**params, "invoice_creation": {"enabled": True}})  # type: ignore[arg-type]
    assert with_invoice.invoice_creation is not None
    assert with_invoice.invoice_creation.enabled is True
    with pytest.raises(stripe.InvalidRequestError, match="payment mode"):
        client.v1.checkout.sessions.create({
            "mode": "setup", "currency": "cad", "success_url": "https://clinic.example/",
            "invoice_creation": {"enabled": True}})


def test_a_receipt_left_due_by_a_desk_that_stopped_is_sent_by_its_next_check(
        notice_clinic: NoticeClinic, monkeypatch: pytest.MonkeyPatch) -> None:
    c = notice_clinic
    _consent(c)
    _pay_by_text(c)
    receipts = c.services.link_payments.receipts
    with monkeypatch.context() as stopped:  # the desk stops right after recording the payment
        stopped.setattr(receipts, "send_due", lambda _actor, _ids: [])
        c.services.link_payments.check_open_links(c.desk)
    (notice,) = c.notices()
    assert notice.receipt_status == "pending" and c.smtp.inbox.messages == []  # type: ignore[union-attr]
    c.services.link_payments.check_open_links(c.desk)
    assert len(c.smtp.inbox.messages) == 1  # type: ignore[union-attr]
    (notice,) = c.notices()
    assert notice.receipt_status == "sent"
