"""Sending email: over SMTP when a provider is set up, else into the outbox folder as .eml.

The SMTP settings (host, port, security, username, from address) come from the [smtp] table
of config.toml; the password never does: it is read from the OS keyring (service
``front-desk-smtp``, the SMTP username as the name), e.g. ``keyring set front-desk-smtp USER``.
With no provider configured nothing is lost: the message is written to
``<data dir>/outbox/`` where any mail program can open and send it.

Sending blocks on the network: call `Mailer.deliver` from the network pool, never the UI
thread. Failures raise `MailError` with a message for the desk; nothing about the recipient
or the message goes to the log.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from pathlib import Path

from desk_app import paths
from desk_app.services.clock import Clock, SystemClock
from desk_app.services.errors import ServiceError, ValidationError
from desk_app.services.secret_store import (
    SMTP_SERVICE,
    KeyringSecretStore,
    SecretStoreUnavailable,
)

log = logging.getLogger(__name__)

KEYRING_SERVICE = SMTP_SERVICE
DEFAULT_TIMEOUT_SECONDS = 20.0
NOT_CONFIGURED = "not sent: no email provider configured; saved to the outbox"

_ADDRESS = re.compile(r"^[^@\s<>\",;]+@[^@\s<>\",;]+\.[^@\s<>\",;]+$")


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # connect in plain text, then upgrade (port 587)
    SSL = "ssl"  # TLS from the first byte (port 465)
    NONE = "none"  # no encryption: only for a relay on the clinic's own network


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str = ""  # empty: the server takes mail without signing in
    from_address: str = ""
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


class MailError(ServiceError):
    """The email could not be sent; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str
    from_name: str = ""  # the clinic's name, shown as the sender
    reply_to: str = ""  # the clinic's own address, where answers go
    attachment_name: str = ""
    attachment: bytes = b""
    attachment_type: str = "application/pdf"
    html: str = ""  # an HTML alternative to the text body (billing notices)


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: bool
    outbox_path: Path | None = None


PasswordLookup = Callable[[SmtpSettings], str | None]


def keyring_password(settings: SmtpSettings) -> str | None:
    """The SMTP password from the OS keyring (services.secret_store), or None if not there."""
    try:
        return KeyringSecretStore().get(KEYRING_SERVICE, settings.username)
    except SecretStoreUnavailable as exc:
        raise MailError(
            f"The SMTP password could not be read: {exc}"
        ) from None


def default_outbox() -> Path:
    return paths.data_dir() / "outbox"


def check_address(text: str) -> str:
    """A single plain email address, or ValidationError (no header tricks, no lists)."""
    address = text.strip()
    if not address:
        raise ValidationError("Enter the email address to send it to.", "to")
    if not _ADDRESS.match(address) or len(address) > 254:
        raise ValidationError(
            f"“{address}” is not an email address; type one address like name@example.com.",
            "to",
        )
    return address


def mask_address(address: str) -> str:
    """'m***@example.com': enough for the audit trail to tell addresses apart, no more."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class Mailer:
    """Sends `OutgoingEmail`s with the configured provider, or keeps them in the outbox."""

    def __init__(
        self,
        settings: SmtpSettings | None = None,
        *,
        password: PasswordLookup = keyring_password,
        outbox: Callable[[], Path] = default_outbox,
        clock: Clock | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._password = password
        self._outbox = outbox
        self._clock = clock or SystemClock()
        self._tls_context = tls_context

    @property
    def configured(self) -> bool:
        return self.settings is not None

    def message(self, email: OutgoingEmail) -> EmailMessage:
        """The MIME message: plain text body and the attachment, From the clinic."""
        sender = (self.settings.from_address if self.settings else "") or email.reply_to
        message = EmailMessage()
        message["Subject"] = email.subject
        if sender:
            username, _, domain = sender.partition("@")
            message["From"] = Address(email.from_name, username, domain)
        message["To"] = email.to
        if email.reply_to and email.reply_to != sender:
            message["Reply-To"] = email.reply_to
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
        message.set_content(email.body)
        if email.html:
            message.add_alternative(email.html, subtype="html")
        if email.attachment:
            maintype, _, subtype = email.attachment_type.partition("/")
            message.add_attachment(
                email.attachment,
                maintype=maintype,
                subtype=subtype,
                filename=email.attachment_name or "document.pdf",
            )
        return message

    def deliver(self, email: OutgoingEmail) -> Delivery:
        """Send `email`, or write it to the outbox when no provider is configured. Blocks."""
        message = self.message(email)
        if self.settings is None:
            return Delivery(sent=False, outbox_path=self._write_outbox(message))
        self._send(self.settings, message)
        log.info("email sent through %s", self.settings.host)
        return Delivery(sent=True)

    # ----- SMTP ------------------------------------------------------------------------------

    def _send(self, settings: SmtpSettings, message: EmailMessage) -> None:
        where = f"{settings.host}:{settings.port}"
        password = ""
        if settings.username:
            found = self._password(settings)
            if not found:
                raise MailError(
                    f"No password for the email account “{settings.username}” is stored in the "
                    f"system keyring. Store it with: keyring set {KEYRING_SERVICE} "
                    f"{settings.username}"
                )
            password = found
        context = self._tls_context or ssl.create_default_context()
        timeout = settings.timeout_seconds
        try:
            client: smtplib.SMTP
            if settings.security == SmtpSecurity.SSL:
                client = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=timeout, context=context
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
            with client:
                if settings.security == SmtpSecurity.STARTTLS:
                    client.starttls(context=context)
                if settings.username:
                    client.login(settings.username, password)
                client.send_message(message)
        except smtplib.SMTPAuthenticationError:
            raise self._failed(
                settings,
                "refused the username or password. Check the account in the "
                "keyring and the username in config.toml",
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise MailError(
                "The email provider refused the recipient's address; check it and try again."
            ) from None
        except smtplib.SMTPSenderRefused:
            raise self._failed(
                settings,
                "refused the From address; set from_address in config.toml to an "
                "address of that account",
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise self._failed(
                settings,
                "does not offer what config.toml asks for (STARTTLS or signing "
                "in); check security and username there",
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib reports a read that timed out as a dropped connection.
            if "timed out" in str(exc):
                raise self._failed(settings, f"did not answer within {timeout:g} seconds") from None
            raise self._failed(settings, "closed the connection unexpectedly") from None
        except TimeoutError:
            raise self._failed(settings, f"did not answer within {timeout:g} seconds") from None
        except ssl.SSLError as exc:
            raise self._failed(
                settings,
                f"did not make a secure connection ({exc.reason or 'TLS error'}); check "
                "security and port in config.toml",
            ) from None
        except smtplib.SMTPException as exc:
            raise self._failed(settings, f"answered with an error ({type(exc).__name__})") from None
        except OSError as exc:
            raise MailError(
                f"Not sent: the email provider at {where} could not be reached "
                f"({exc.strerror or type(exc).__name__}). Check the network, and host and port "
                "in config.toml."
            ) from None

    @staticmethod
    def _failed(settings: SmtpSettings, why: str) -> MailError:
        log.warning("email not sent through %s: %s", settings.host, why.split(";")[0])
        return MailError(f"Not sent: the email provider at {settings.host} {why}.")

    # ----- the outbox ------------------------------------------------------------------------

    def _write_outbox(self, message: EmailMessage) -> Path:
        folder = self._outbox()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        log.info("no email provider configured: message saved to the outbox")
        return path
