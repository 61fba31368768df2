"""Sending texts through a Twilio-compatible REST API, with ``requests``.

``POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` with the form fields
``To``, ``From`` and ``Body`` and HTTP Basic auth (account SID, auth token). The auth token is
in the OS keyring (service ``front-desk-sms``, the account SID as the name), never in the
config file. Every request has a timeout; a 429 or 5xx answer is retried with exponential
backoff (honouring Retry-After, capped), a 4xx never is (the request itself is wrong), and a
connection that fails is not retried either: the provider may have sent the text already.

With no provider configured, a text is written to the outbox folder as an .eml file (the
number in To:) and reported not sent.

Sending blocks on the network: call it off the UI thread.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from desk_app.services.clock import Clock, SystemClock
from desk_app.services.errors import ServiceError
from desk_app.services.http_retry import json_of, post_until_answered
from desk_app.services.mail import default_outbox
from desk_app.services.secret_store import SMS_SERVICE, SecretStore, SecretStoreUnavailable

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SmsSettings:
    account_sid: str
    from_number: str  # E.164, the number texts come from
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = 3
    backoff_seconds: float = 1.0


class SmsError(ServiceError):
    """The text was not sent; the message says why."""


@dataclass(frozen=True, slots=True)
class SmsDelivery:
    sent: bool
    provider_id: str = ""
    outbox_path: Path | None = None


class SmsSender:
    def __init__(
        self,
        settings: SmsSettings | None,
        secrets: SecretStore,
        *,
        outbox: Callable[[], Path] = default_outbox,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._secrets = secrets
        self._outbox = outbox
        self._clock = clock or SystemClock()
        self._sleep = sleep

    @property
    def configured(self) -> bool:
        return self.settings is not None

    def send(self, to: str, body: str) -> SmsDelivery:
        if self.settings is None:
            return SmsDelivery(sent=False, outbox_path=self._write_outbox(to, body))
        return self._send(self.settings, to, body)

    def _send(self, settings: SmsSettings, to: str, body: str) -> SmsDelivery:
        import requests

        try:
            token = self._secrets.get(SMS_SERVICE, settings.account_sid)
        except SecretStoreUnavailable as exc:
            raise SmsError(str(exc)) from None
        if not token:
            raise SmsError(
                f"No auth token for the text-message account {settings.account_sid} is stored "
                f"in the system keyring. Store it with: keyring set {SMS_SERVICE} "
                f"{settings.account_sid}"
            )
        url = (f"{settings.base_url.rstrip('/')}/2010-04-01/Accounts/"
               f"{settings.account_sid}/Messages.json")
        form = {"To": to, "From": settings.from_number, "Body": body}
        answer = post_until_answered(
            lambda: requests.post(url, data=form, auth=(settings.account_sid, token),
                                  timeout=settings.timeout_seconds),
            max_attempts=settings.max_attempts, backoff_seconds=settings.backoff_seconds,
            sleep=self._sleep, provider="text-message provider",
            unreachable=lambda why: SmsError(
                "Not sent: the text-message provider could not be reached "
                f"({why}). Check the network and try again."),
            refused=lambda status, data, busy: SmsError(_refusal(status, data, busy)))
        return SmsDelivery(sent=True, provider_id=str(json_of(answer).get("sid") or ""))

    def _write_outbox(self, to: str, body: str) -> Path:
        message = EmailMessage()
        message["To"] = to
        message["Subject"] = "Text message (not sent: no provider configured)"
        message["Date"] = format_datetime(self._clock.now())
        message["X-Front-Desk-Channel"] = "sms"
        message.set_content(body)
        folder = self._outbox()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"{stamp}-sms-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        log.info("no text provider configured: message saved to the outbox")
        return path


def _refusal(status: int, data: dict[str, Any], retryable: bool) -> str:
    detail = str(data.get("message") or "").strip()
    if status in (401, 403):
        return ("Not sent: the text-message provider refused the account SID or auth token. "
                "Check them in config.toml and the keyring.")
    if retryable:
        return (f"Not sent: the text-message provider is busy or failing (HTTP {status}) "
                "after several tries. Try again in a few minutes.")
    return (f"Not sent: the text-message provider refused the message (HTTP {status}"
            + (f": {detail}" if detail else "") + "). Check the number and try again.")
