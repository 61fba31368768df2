"""Keeping card data, secrets and patient contact details out of the log files.

Code is written not to log them (SQL and its parameters are never logged, audit details hold
no secrets), and this is the net under it: every line a log handler of ours writes, traceback
included, passes through :func:`scrub` first.

- card numbers: 13 to 19 digits, with or without spaces or dashes, that pass the Luhn check;
- API keys by their shape: Stripe's ``sk_``/``rk_`` keys and ``whsec_`` webhook secrets,
  Twilio-style auth tokens after ``token=``/``password=``/``secret=``;
- the password in a URL (``postgresql://user:secret@host``);
- e-mail addresses (kept: their first letter and domain, so a log still says which one);
- phone numbers in the shapes people type (kept: the last two digits);
- any secret value this process has read from the keyring (:func:`register_secret`), in
  whatever shape it has.

Patient names have no shape to find; they are simply never logged (only ids are).
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "[redacted]"
CARD_REDACTED = "[card number redacted]"
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words

_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_API_KEY = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{6,}|\bwhsec_[A-Za-z0-9]{6,}")
_ASSIGNED_SECRET = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|auth_token|api_key|apikey|key)(\s*[=:]\s*)"
    r"(['\"]?)[^\s'\",;&]+\3"
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+(@)", re.IGNORECASE)
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[\s.-]?|\d{1,3}[\s.-])?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{2}(\d{2})(?![\w-])"
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact `value` wherever it appears in the log from now on (keys, passwords, tokens)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def forget_secrets() -> None:
    """Tests: start again with no registered secrets."""
    with _secrets_lock:
        _secrets.clear()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = ord(char) - 48
        if position % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return CARD_REDACTED if _luhn_ok(digits) else match.group(0)


def scrub(text: str) -> str:
    """`text` with card numbers, secrets and contact details taken out."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _API_KEY.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}\2", text)
    text = _ASSIGNED_SECRET.sub(rf"\1\2{REDACTED}", text)
    text = _CARD.sub(_card, text)
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(r"[phone …\1]", text)


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose every formatted record (message, traceback, stack) is scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))
