"""Emailing a receipt: a real SMTP server on 127.0.0.1, the password from a keyring backend
set up by the test (never the OS keyring), clear errors, and the outbox when no provider is set.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from desk_app import paths
from desk_app.models import AuditEvent, PaymentMethod
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.errors import ValidationError
from desk_app.services.mail import (
    KEYRING_SERVICE,
    Mailer,
    MailError,
    OutgoingEmail,
    SmtpSecurity,
    SmtpSettings,
    check_address,
    mask_address,
)
from desk_app.services.patient_documents import EmailRecord
from tests.builders import Clinic, small_clinic
from tests.smtp_fixtures import (
    SMTP_PASSWORD,
    SMTP_USER,
    MemoryKeyring,
    SmtpServer,
    free_port,
    mail_keyring,
    make_certificate,
    smtp_server,
    start_server,
)

__all__ = ["mail_keyring", "smtp_server"]  # fixtures used by name below

CLINIC = "Maple Grove Wellness"


@pytest.fixture
def clinic(sqlite_db: Database) -> Clinic:
    return small_clinic(sqlite_db)


@pytest.fixture
def stored_password(mail_keyring: MemoryKeyring) -> MemoryKeyring:
    mail_keyring.set_password(KEYRING_SERVICE, SMTP_USER, SMTP_PASSWORD)
    return mail_keyring


def settings_for(
    port: int, security: SmtpSecurity = SmtpSecurity.NONE, **extra: object
) -> SmtpSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": SMTP_USER,
        "from_address": SMTP_USER,
        "timeout_seconds": 5.0,
    }
    values.update(extra)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def receipt_email(c: Clinic, clock: FixedClock) -> tuple[uuid.UUID, PdfDocument, OutgoingEmail]:
    patient = c.patient("Zoë", "Ødegård-Nguyễn", email="zoe@example.com")
    massage = c.visit(patient, "Massage 60 min")
    clock.advance(timedelta(minutes=5))
    c.services.ledger.record_payment(
        c.desk, patient, PaymentMethod.DEBIT, 12430, apply_to=[massage]
    )
    (receipt,) = c.services.receipts.receipts(c.desk, patient)
    document = c.services.documents.payment_receipts(c.desk, patient, [receipt])
    to = c.services.documents.email_address(c.desk, patient)
    return patient, document, c.services.documents.prepare_email(c.desk, patient, document, to)


def test_a_receipt_emailed_arrives_with_its_pdf_from_the_clinic(
    clinic: Clinic, clock: FixedClock, smtp_server: SmtpServer, stored_password: MemoryKeyring
) -> None:
    _patient, document, outgoing = receipt_email(clinic, clock)
    mailer = Mailer(settings_for(smtp_server.port), clock=clock)

    delivery = mailer.deliver(outgoing)

    assert delivery.sent and delivery.outbox_path is None
    (message,) = smtp_server.inbox.messages
    assert smtp_server.inbox.recipients == [["zoe@example.com"]]
    assert smtp_server.inbox.logins == [SMTP_USER]  # signed in with the keyring's password
    assert message["Subject"] == f"Your receipt from {CLINIC}"
    assert message["From"] == f"{CLINIC} <{SMTP_USER}>"
    assert message["Reply-To"] == "hello@maplegrove.example"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == document.filename
    assert attachment.get_content() == document.data
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Hello Zoë," in text and "$124.30" in text and CLINIC in text
    for clinical in ("Massage", "Okoye", "RMT", "DESK1-"):  # no service, provider or invoice
        assert clinical not in text


def test_starttls_upgrades_the_connection_before_signing_in(
    clinic: Clinic, clock: FixedClock, stored_password: MemoryKeyring, tmp_path: Path
) -> None:
    cert = make_certificate(tmp_path)
    server = start_server(starttls=cert)
    try:
        _patient, _document, outgoing = receipt_email(clinic, clock)
        mailer = Mailer(
            settings_for(server.port, SmtpSecurity.STARTTLS), tls_context=cert.client_context()
        )
        assert mailer.deliver(outgoing).sent
        assert len(server.inbox.messages) == 1 and server.inbox.logins == [SMTP_USER]
    finally:
        server.controller.stop()


def test_implicit_tls_from_the_first_byte(
    clinic: Clinic, clock: FixedClock, stored_password: MemoryKeyring, tmp_path: Path
) -> None:
    cert = make_certificate(tmp_path)
    server = start_server(implicit_tls=cert)
    try:
        _patient, _document, outgoing = receipt_email(clinic, clock)
        mailer = Mailer(
            settings_for(server.port, SmtpSecurity.SSL), tls_context=cert.client_context()
        )
        assert mailer.deliver(outgoing).sent
        assert len(server.inbox.messages) == 1
    finally:
        server.controller.stop()


def test_an_untrusted_certificate_is_refused_clearly(
    clinic: Clinic, clock: FixedClock, stored_password: MemoryKeyring, tmp_path: Path
) -> None:
    server = start_server(starttls=make_certificate(tmp_path))
    try:
        _patient, _document, outgoing = receipt_email(clinic, clock)
        mailer = Mailer(settings_for(server.port, SmtpSecurity.STARTTLS))  # system CAs only
        with pytest.raises(MailError, match="did not make a secure connection"):
            mailer.deliver(outgoing)
        assert server.inbox.messages == []
    finally:
        server.controller.stop()


def test_a_wrong_password_is_a_clear_error(
    clinic: Clinic, clock: FixedClock, smtp_server: SmtpServer, mail_keyring: MemoryKeyring
) -> None:
    mail_keyring.set_password(KEYRING_SERVICE, SMTP_USER, "not it")
    _patient, _document, outgoing = receipt_email(clinic, clock)
    with pytest.raises(MailError, match="refused the username or password"):
        Mailer(settings_for(smtp_server.port)).deliver(outgoing)
    assert smtp_server.inbox.messages == []


def test_no_password_in_the_keyring_says_how_to_store_one(
    clinic: Clinic, clock: FixedClock, smtp_server: SmtpServer, mail_keyring: MemoryKeyring
) -> None:
    _patient, _document, outgoing = receipt_email(clinic, clock)
    with pytest.raises(MailError, match=f"keyring set {KEYRING_SERVICE} {SMTP_USER}"):
        Mailer(settings_for(smtp_server.port)).deliver(outgoing)


def test_a_server_that_is_not_there_is_a_clear_error(
    clinic: Clinic, clock: FixedClock, stored_password: MemoryKeyring
) -> None:
    _patient, _document, outgoing = receipt_email(clinic, clock)
    with pytest.raises(MailError, match="could not be reached"):
        Mailer(settings_for(free_port())).deliver(outgoing)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def test_a_server_that_never_answers_times_out(
    clinic: Clinic, clock: FixedClock, stored_password: MemoryKeyring, silent_server: int
) -> None:
    _patient, _document, outgoing = receipt_email(clinic, clock)
    mailer = Mailer(settings_for(silent_server, timeout_seconds=0.5))
    with pytest.raises(MailError, match=r"did not answer within 0\.5 seconds"):
        mailer.deliver(outgoing)


def test_with_no_provider_configured_the_email_is_saved_to_the_outbox(
    clinic: Clinic, clock: FixedClock
) -> None:
    _patient, document, outgoing = receipt_email(clinic, clock)
    mailer = clinic.services.mail
    assert not mailer.configured

    delivery = mailer.deliver(outgoing)

    assert not delivery.sent and delivery.outbox_path is not None
    assert delivery.outbox_path.parent == paths.data_dir() / "outbox"
    assert "Zoë" not in delivery.outbox_path.name and "zoe" not in delivery.outbox_path.name
    saved = message_from_bytes(delivery.outbox_path.read_bytes(), policy=policy.default)
    assert saved["To"] == "zoe@example.com"
    assert saved["Subject"] == f"Your receipt from {CLINIC}"
    (attachment,) = list(saved.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_content() == document.data


def test_emailing_is_audited_without_the_full_address(clinic: Clinic, clock: FixedClock) -> None:
    patient, document, outgoing = receipt_email(clinic, clock)
    delivery = clinic.services.mail.deliver(outgoing)
    clinic.services.documents.record_emailed(
        clinic.desk, patient, EmailRecord(document, outgoing.to, delivery)
    )
    with clinic.db.reading() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "receipt.emailed")).one()
        assert event.patient_id == patient and event.staff_id == clinic.desk.staff_id
        assert "zoe@example.com" not in event.details and "z***@example.com" in event.details
        assert document.reference in event.details and '"outbox"' in event.details


def test_nothing_about_the_patient_goes_to_the_log(
    clinic: Clinic,
    clock: FixedClock,
    smtp_server: SmtpServer,
    stored_password: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _patient, _document, outgoing = receipt_email(clinic, clock)
    with caplog.at_level(logging.DEBUG, logger="desk_app"):
        Mailer(settings_for(smtp_server.port)).deliver(outgoing)
        with pytest.raises(MailError):
            Mailer(settings_for(free_port())).deliver(outgoing)
        Mailer().deliver(outgoing)
    ours = [r for r in caplog.records if r.name.startswith("desk_app")]  # not the test server's
    logged = " ".join(r.getMessage() for r in ours)
    assert ours
    for private in ("zoe", "Zoë", "Ødegård", SMTP_PASSWORD):
        assert private not in logged


@pytest.mark.parametrize(
    "typed", ["", "zoe", "zoe@", "zoe@example", "a@b.com, c@d.com", "zoe@example.com\nBcc: x@y.z"]
)
def test_an_address_that_is_not_one_email_address_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_address(typed)
    assert refused.value.field == "to"


def test_addresses_are_masked_for_the_audit_trail() -> None:
    assert mask_address("zoe@example.com") == "z***@example.com"
    assert check_address("  zoe@example.com ") == "zoe@example.com"
