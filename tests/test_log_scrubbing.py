"""The log files never receive card numbers, secrets or contact details."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk_app import logs
from desk_app.log_scrubbing import CARD_REDACTED, REDACTED, forget_secrets, register_secret, scrub


@pytest.fixture(autouse=True)
def no_secrets() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


@pytest.mark.parametrize(
    "card", ["4242424242424242", "4242 4242 4242 4242", "4000-0027-6000-3184", "378282246310005"]
)
def test_card_numbers_in_any_spacing_are_redacted(card: str) -> None:
    assert scrub(f"charge failed for {card} today") == f"charge failed for {CARD_REDACTED} today"


def test_long_numbers_that_are_not_card_numbers_stay() -> None:
    assert scrub("order 4242424242424241 and seq 1234567890123") == (
        "order 4242424242424241 and seq 1234567890123"
    )


def test_stripe_keys_url_passwords_and_assigned_secrets_are_redacted() -> None:
    line = (
        "key sk_test_51Habcdefghijklmnop rk_live_abcdefgh whsec_abcdef123 "
        "url postgresql+psycopg://desk:S3cret!pw@db.clinic.lan/frontdesk "
        "password=hunter22 token: 'abc123def456'"
    )
    cleaned = scrub(line)
    for secret in ("51Habcdefghijklmnop", "rk_live", "whsec_", "S3cret!pw", "hunter22", "abc123"):
        assert secret not in cleaned
    assert "postgresql+psycopg://desk:[redacted]@db.clinic.lan/frontdesk" in cleaned


def test_emails_and_phones_keep_only_a_hint() -> None:
    cleaned = scrub("sent to maddy.nguyen@example.com and (416) 555-0199, +1 416-555-0142")
    assert "maddy.nguyen" not in cleaned and "m***@example.com" in cleaned
    assert "555-0199" not in cleaned and "[phone …99]" in cleaned
    assert "555-0142" not in cleaned and "[phone …42]" in cleaned


def test_dates_times_and_ids_are_left_alone() -> None:
    line = "2026-11-21 13:54:27,374 INFO DESK1-00042 id 5f0c2a1e-77aa-4a5b-9d3e-1234567890ab"
    assert scrub(line) == line


def test_registered_secrets_are_redacted_in_any_context() -> None:
    register_secret("correct horse battery")
    register_secret("abc")  # too short to register: it would redact ordinary words
    assert scrub("smtp login with correct horse battery failed, abc") == (
        f"smtp login with {REDACTED} failed, abc"
    )


def test_the_log_file_gets_scrubbed_lines_and_tracebacks(desk_home: Path) -> None:
    log_file = logs.setup_logging("INFO")
    register_secret("keyring-value-9x")
    log = logging.getLogger("desk_app.test")
    try:
        raise ValueError("card 4242424242424242 for maddy@example.com with keyring-value-9x")
    except ValueError:
        log.exception("payment failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "payment failed" in text and "Traceback" in text
    for leaked in ("4242424242424242", "maddy@example.com", "keyring-value-9x"):
        assert leaked not in text
