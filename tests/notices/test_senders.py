"""The SMS sender against a local stand-in for the provider's REST API, the contact checks,
the text length rule and the outbox when no provider is configured."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from desk_app.services.clock import FixedClock
from desk_app.services.contact_checks import e164_phone, valid_email
from desk_app.services.errors import ValidationError
from desk_app.services.notice_messages import sms_segments
from desk_app.services.secret_store import SMS_SERVICE, KeyringSecretStore
from desk_app.services.sms import SmsError, SmsSender, SmsSettings
from tests.memory_keyring import MemoryKeyring
from tests.notice_fixtures import SMS_FROM, SMS_SID, SMS_TOKEN, SmsApi


@pytest.fixture
def sender(sms_api: SmsApi, memory_keyring: MemoryKeyring, clock: FixedClock) -> SmsSender:
    memory_keyring.set_password(SMS_SERVICE, SMS_SID, SMS_TOKEN)
    waits: list[float] = []
    sender = SmsSender(SmsSettings(account_sid=SMS_SID, from_number=SMS_FROM,
                                   base_url=sms_api.url, timeout_seconds=5.0,
                                   backoff_seconds=0.5),
                       KeyringSecretStore(), clock=clock, sleep=waits.append)
    sender.waits = waits  # type: ignore[attr-defined]
    return sender


def test_a_text_posts_the_form_with_basic_auth(sender: SmsSender, sms_api: SmsApi) -> None:
    delivery = sender.send("+14165550123", "Hello, Maddy.")
    assert delivery.sent and delivery.provider_id.startswith("SM")
    (request,) = sms_api.requests
    assert request.path == f"/2010-04-01/Accounts/{SMS_SID}/Messages.json"
    assert request.form == {"To": "+14165550123", "From": SMS_FROM, "Body": "Hello, Maddy."}
    assert request.auth == (SMS_SID, SMS_TOKEN)


def test_503_is_retried_with_backoff_then_sent(sender: SmsSender, sms_api: SmsApi) -> None:
    sms_api.answer_next(503, 503)
    assert sender.send("+14165550123", "Hi").sent
    assert len(sms_api.requests) == 3
    assert sender.waits == [0.5, 1.0]  # type: ignore[attr-defined]


def test_429_is_retried_but_gives_up_after_the_last_attempt(sender: SmsSender,
                                                              sms_api: SmsApi) -> None:
    sms_api.answer_next(429, 429, 429)
    with pytest.raises(SmsError, match="busy or failing"):
        sender.send("+14165550123", "Hi")
    assert len(sms_api.requests) == 3


def test_400_is_never_retried(sender: SmsSender, sms_api: SmsApi) -> None:
    sms_api.answer_next(400)
    with pytest.raises(SmsError, match=r"refused the message \(HTTP 400: The 'To' number"):
        sender.send("+14165550123", "Hi")
    assert len(sms_api.requests) == 1
    assert sender.waits == []  # type: ignore[attr-defined]


def test_a_missing_auth_token_says_how_to_store_it(sms_api: SmsApi,
                                                   memory_keyring: MemoryKeyring) -> None:
    sender = SmsSender(SmsSettings(account_sid=SMS_SID, from_number=SMS_FROM,
                                   base_url=sms_api.url), KeyringSecretStore())
    with pytest.raises(SmsError, match=f"keyring set {SMS_SERVICE} {SMS_SID}"):
        sender.send("+14165550123", "Hi")
    assert sms_api.requests == []


def test_an_unreachable_provider_is_not_retried(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(SMS_SERVICE, SMS_SID, SMS_TOKEN)
    sender = SmsSender(SmsSettings(account_sid=SMS_SID, from_number=SMS_FROM,
                                   base_url="http://127.0.0.1:9", timeout_seconds=2.0),
                       KeyringSecretStore(), sleep=lambda _s: pytest.fail("retried"))
    with pytest.raises(SmsError, match="could not be reached"):
        sender.send("+14165550123", "Hi")


def test_with_no_provider_a_text_goes_to_the_outbox(tmp_path: Path, clock: FixedClock) -> None:
    sender = SmsSender(None, KeyringSecretStore(), outbox=lambda: tmp_path / "outbox",
                       clock=clock)
    delivery = sender.send("+14165550123", "Hello, Maddy.")
    assert not delivery.sent and delivery.outbox_path is not None
    saved = email.message_from_bytes(delivery.outbox_path.read_bytes(),
                                     policy=email.policy.default)
    assert saved["To"] == "+14165550123" and "Hello, Maddy." in saved.get_content()


@pytest.mark.parametrize("typed", ["(416) 555-0123", "416.555.0123", "+1 416 555 0123",
                                   " 1-416-555-0123 "])
def test_mobile_numbers_are_normalised_to_e164(typed: str) -> None:
    assert e164_phone(typed, "CA") == "+14165550123"


@pytest.mark.parametrize("typed", ["555-01", "not a number", "+1 000 000 0000"])
def test_bad_mobile_numbers_say_what_to_fix(typed: str) -> None:
    with pytest.raises(ValidationError, match="Contact tab"):
        e164_phone(typed, "CA")


def test_email_addresses_are_checked() -> None:
    assert valid_email(" Maddy@Example.COM ") == "Maddy@example.com"
    for bad in ("maddy@", "maddy example.com", "a@b@c.com"):
        with pytest.raises(ValidationError, match="not a valid email address"):
            valid_email(bad)


def test_sms_segments_follow_gsm_and_ucs2_limits() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_segments("é" * 160) == 1  # é is in the GSM alphabet
    assert sms_segments("😀" + "a" * 60) == 1  # UCS-2: 62 units
    assert sms_segments("ő" * 71) == 2
