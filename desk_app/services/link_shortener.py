"""Short links for texts, through a link-shortening service with a Bitly-v4-compatible API.

A real Stripe Checkout URL carries a fragment of a few hundred characters, so a text that
holds it cannot fit in two SMS segments. The clinic sets a shortener in Clinic ▸ Billing
notices (its API base URL and the short domain); its access token is in the OS keyring only
(service ``front-desk-shortener``, the clinic's id as the name).

``POST {base_url}/v4/shorten`` with JSON ``{"long_url": ..., "domain": ...}`` and
``Authorization: Bearer <token>``; the answer is JSON whose ``link`` is the short link
(Bitly answers 200 for a link it had already shortened, 201 for a new one). Every request
has a timeout; a 429 or 5xx answer is retried with exponential backoff (or Retry-After),
a 4xx never is, and neither is a connection that failed. A failure raises ``ShortenerError``
and the notice is recorded failed: nothing is sent with a long link instead.

Blocks on the network: call it off the UI thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from desk_app.services.errors import ServiceError, ValidationError
from desk_app.services.http_retry import json_of, post_until_answered
from desk_app.services.secret_store import (
    SHORTENER_SERVICE,
    SecretStore,
    SecretStoreUnavailable,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
#: The back-half of a Bitly link ("https://bit.ly/3AbCdEf") is 7 characters. The preview
#: shows a stand-in of this length; the text is checked again with the real link at Send.
SHORT_CODE_LENGTH = 7


@dataclass(frozen=True, slots=True)
class ShortenerSettings:
    base_url: str  # "https://api-ssl.bitly.com"
    domain: str  # "bit.ly", or the clinic's own short domain
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = 3
    backoff_seconds: float = 1.0

    def placeholder_link(self) -> str:
        """A stand-in of the length a short link on this domain has, before it exists."""
        return f"https://{self.domain}/" + "x" * SHORT_CODE_LENGTH


class ShortenerError(ServiceError):
    """No short link was made; the message says why."""


def check_shortener(base_url: str, domain: str) -> tuple[str, str]:
    """The base URL and domain cleaned, or ValidationError saying what to change. Both empty
    means no shortener."""
    base, host = base_url.strip().rstrip("/"), domain.strip().lower()
    if not base and not host:
        return "", ""
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query:
        raise ValidationError(
            "Enter the shortener's API address, like https://api-ssl.bitly.com.",
            "shortener_base_url")
    if not host:
        raise ValidationError("Enter the short domain the links use, like bit.ly.",
                              "shortener_domain")
    if "/" in host or ":" in host or " " in host or "." not in host or len(host) > 253:
        raise ValidationError(
            f"“{host}” is not a domain; enter only the domain, like bit.ly or go.example.com.",
            "shortener_domain")
    return base, host


class LinkShortener:
    def __init__(self, secrets: SecretStore, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._secrets = secrets
        self._sleep = sleep

    def token(self, clinic_key: str) -> str | None:
        try:
            return self._secrets.get(SHORTENER_SERVICE, clinic_key)
        except SecretStoreUnavailable as exc:
            raise ShortenerError(str(exc)) from None

    def store_token(self, clinic_key: str, token: str) -> None:
        try:
            self._secrets.set(SHORTENER_SERVICE, clinic_key, token.strip())
        except SecretStoreUnavailable as exc:
            raise ShortenerError(str(exc)) from None

    def shorten(self, settings: ShortenerSettings, clinic_key: str, long_url: str) -> str:
        import requests

        token = self.token(clinic_key)
        if not token:
            raise ShortenerError(
                "Not sent: no access token for the link shortener is stored on this computer. "
                "A Full Access user can enter it in Clinic ▸ Billing notices.")
        url = f"{settings.base_url.rstrip('/')}/v4/shorten"
        body = {"long_url": long_url, "domain": settings.domain}
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Accept": "application/json"}
        answer = post_until_answered(
            lambda: requests.post(url, json=body, headers=headers,
                                  timeout=settings.timeout_seconds),
            max_attempts=settings.max_attempts, backoff_seconds=settings.backoff_seconds,
            sleep=self._sleep, provider="link shortener",
            unreachable=lambda why: ShortenerError(
                f"Not sent: the link shortener could not be reached ({why}). Check the "
                "network and try again."),
            refused=lambda status, data, busy: ShortenerError(_refusal(status, data, busy)))
        link = str(json_of(answer).get("link") or "")
        if not link.startswith(("https://", "http://")):
            raise ShortenerError("Not sent: the link shortener answered without a short link.")
        return link


def _refusal(status: int, data: dict[str, Any], retryable: bool) -> str:
    detail = str(data.get("description") or data.get("message") or "").strip()[:120]
    if status in (401, 403):
        return ("Not sent: the link shortener refused the access token. A Full Access user "
                "can enter it again in Clinic ▸ Billing notices.")
    if retryable:
        return (f"Not sent: the link shortener is busy or failing (HTTP {status}) after several "
                "tries. Try again in a few minutes.")
    return (f"Not sent: the link shortener refused the link (HTTP {status}"
            + (f": {detail}" if detail else "") + "). Check the short domain in Clinic ▸ "
            "Billing notices.")
