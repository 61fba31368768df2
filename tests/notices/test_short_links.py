"""Texts carry a short link from the clinic's link shortener (a Bitly-v4-compatible API on a
local HTTP server), so a realistic Stripe Checkout URL (about 350 characters) still fits in
two SMS messages; the settings, the keyring, retries and failures."""

from __future__ import annotations

import pytest

from desk_app.models import NoticeChannel, NoticeStatus
from desk_app.services.errors import ValidationError
from desk_app.services.link_shortener import SHORT_CODE_LENGTH, LinkShortener
from desk_app.services.notice_messages import sms_segments
from desk_app.services.secret_store import SHORTENER_SERVICE, KeyringSecretStore
from tests.memory_keyring import MemoryKeyring
from tests.notice_fixtures import (
    SHORT_DOMAIN,
    SHORTENER_TOKEN,
    NoticeClinic,
    ShortenerApi,
)

LONG_MESSAGE = "Thanks for coming in today! See you at your next visit."


def _use_shortener(c: NoticeClinic, api: ShortenerApi, waits: list[float] | None = None) -> None:
    notices = c.services.billing_notices
    notices.shortener = LinkShortener(KeyringSecretStore(), sleep=(
        waits.append if waits is not None else lambda _s: None))
    notices.update_settings(c.clinic.owner, allow_partial_payment=False,
                            link_expiry_minutes=1440, shortener_base_url=api.url + "/",
                            shortener_domain=SHORT_DOMAIN.upper(),
                            shortener_token=SHORTENER_TOKEN)


def test_a_real_length_stripe_link_is_shortened_and_the_text_fits_two_messages(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi,
        memory_keyring: MemoryKeyring) -> None:
    c = notice_clinic
    c.checkout.realistic_urls = True  # type: ignore[union-attr]
    _use_shortener(c, shortener_api)
    assert memory_keyring.entries[(SHORTENER_SERVICE, str(c.clinic.owner.clinic_id))] == \
        SHORTENER_TOKEN

    row = c.services.billing_notices.send_balance_reminder(
        c.desk, c.patient_id, NoticeChannel.TEXT, LONG_MESSAGE)

    assert row.status is NoticeStatus.SENT
    (notice,) = c.notices()
    assert 340 <= len(notice.link_url) <= 380 and "#" in notice.link_url
    (request,) = shortener_api.requests
    assert request.path == "/v4/shorten"
    assert request.authorization == f"Bearer {SHORTENER_TOKEN}"
    assert request.content_type == "application/json"
    assert request.body == {"long_url": notice.link_url, "domain": SHORT_DOMAIN}
    (short,) = shortener_api.links
    body = c.sms.requests[0].form["Body"]  # type: ignore[union-attr]
    assert short in body and notice.link_url not in body
    assert notice.short_url == short and notice.message == body
    assert sms_segments(body) == 2
    assert len(short) == len(f"https://{SHORT_DOMAIN}/") + SHORT_CODE_LENGTH


def test_the_preview_counts_a_stand_in_of_the_short_links_length(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi) -> None:
    c = notice_clinic
    _use_shortener(c, shortener_api)
    draft = c.services.billing_notices.preview(c.desk, c.patient_id, NoticeChannel.TEXT,
                                               LONG_MESSAGE)
    stand_in = f"https://{SHORT_DOMAIN}/" + "x" * SHORT_CODE_LENGTH
    assert stand_in in draft.text and stand_in in draft.link_note
    row = c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                           NoticeChannel.TEXT, LONG_MESSAGE)
    # What was sent is the preview with the real short link in place of the stand-in.
    assert row.message.replace(shortener_api.links[0], stand_in).split(" (link expires")[0] \
        == draft.text.split(" (link expires")[0]
    assert shortener_api.requests and len(row.message) == len(draft.text)


def test_without_a_shortener_long_stripe_links_turn_texts_off_and_say_what_to_set_up(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    c.checkout.realistic_urls = True  # type: ignore[union-attr]
    notices = c.services.billing_notices
    # An email link is made first: the desk learns how long this account's links are.
    notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.EMAIL)
    panel = notices.panel(c.desk, c.patient_id)
    assert "link shortener in Clinic ▸ Billing notices" in panel.text_blocked
    assert panel.email_blocked == ""
    with pytest.raises(ValidationError, match="set up a link shortener"):
        notices.preview(c.desk, c.patient_id, NoticeChannel.TEXT)
    with pytest.raises(ValidationError, match="set up a link shortener"):
        notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    assert c.sms.requests == []  # type: ignore[union-attr]
    assert len(c.notices()) == 1


def test_real_stripe_links_are_counted_long_before_any_was_made(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    notices = c.services.billing_notices
    notices.checkout_link_length = 400  # what the app assumes for api.stripe.com
    assert "link shortener" in notices.panel(c.desk, c.patient_id).text_blocked


def test_the_shortener_is_retried_on_503_and_the_text_goes(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi) -> None:
    c = notice_clinic
    waits: list[float] = []
    _use_shortener(c, shortener_api, waits)
    shortener_api.answer_next(503, 429)
    row = c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                           NoticeChannel.TEXT)
    assert row.status is NoticeStatus.SENT
    assert len(shortener_api.requests) == 3 and waits == [1.0, 2.0]
    assert shortener_api.links[0] in c.sms.requests[0].form["Body"]  # type: ignore[union-attr]


def test_a_refused_link_is_not_retried_and_the_notice_fails_sending_nothing(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi) -> None:
    c = notice_clinic
    _use_shortener(c, shortener_api)
    shortener_api.answer_next(400)
    row = c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                           NoticeChannel.TEXT)
    assert len(shortener_api.requests) == 1
    assert row.status is NoticeStatus.FAILED
    assert "link shortener refused the link (HTTP 400" in row.status_label
    assert c.sms.requests == []  # type: ignore[union-attr]
    (notice,) = c.notices()
    assert notice.status is NoticeStatus.FAILED and notice.short_url == ""


def test_a_shortener_that_stays_down_fails_the_notice_after_three_tries(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi) -> None:
    c = notice_clinic
    _use_shortener(c, shortener_api)
    shortener_api.answer_next(503, 503, 503)
    row = c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                           NoticeChannel.TEXT)
    assert row.status is NoticeStatus.FAILED and "busy or failing (HTTP 503)" in row.status_label
    assert len(shortener_api.requests) == 3 and c.sms.requests == []  # type: ignore[union-attr]


def test_no_token_on_this_computer_fails_the_notice_and_says_where_to_enter_it(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi,
        memory_keyring: MemoryKeyring) -> None:
    c = notice_clinic
    _use_shortener(c, shortener_api)
    del memory_keyring.entries[(SHORTENER_SERVICE, str(c.clinic.owner.clinic_id))]
    assert not c.services.billing_notices.settings(c.clinic.owner).shortener_token_stored
    row = c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                           NoticeChannel.TEXT)
    assert row.status is NoticeStatus.FAILED and "Clinic ▸ Billing notices" in row.status_label
    assert shortener_api.requests == [] and c.sms.requests == []  # type: ignore[union-attr]


def test_emails_keep_the_stripe_link_itself(notice_clinic: NoticeClinic,
                                            shortener_api: ShortenerApi) -> None:
    c = notice_clinic
    _use_shortener(c, shortener_api)
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.EMAIL)
    assert shortener_api.requests == []


@pytest.mark.parametrize(("base", "domain", "complaint"), [
    ("api-ssl.bitly.com", "bit.ly", "API address"),
    ("https://api-ssl.bitly.com", "", "short domain"),
    ("https://api-ssl.bitly.com", "https://bit.ly/", "not a domain"),
])
def test_bad_shortener_settings_say_what_to_change(notice_clinic: NoticeClinic, base: str,
                                                   domain: str, complaint: str) -> None:
    c = notice_clinic
    with pytest.raises(ValidationError, match=complaint):
        c.services.billing_notices.update_settings(
            c.clinic.owner, allow_partial_payment=False, link_expiry_minutes=1440,
            shortener_base_url=base, shortener_domain=domain)


def test_the_token_is_registered_for_log_scrubbing(
        notice_clinic: NoticeClinic, shortener_api: ShortenerApi) -> None:
    from desk_app.log_scrubbing import REDACTED, forget_secrets, scrub

    c = notice_clinic
    _use_shortener(c, shortener_api)
    forget_secrets()
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    assert scrub(f"the answer named {SHORTENER_TOKEN}") == f"the answer named {REDACTED}"


@pytest.mark.parametrize(("template", "complaint"), [
    ("<p>${greeting} ${total} ${patient_name} <a href='${link}'>Pay</a></p>",
     r"uses \$\{total\}, \$\{patient_name\}, which are not placeholders"),
    ("<p>${greeting} $5 off <a href='${link}'>Pay</a></p>", r"write \$\$ for a dollar sign"),
    ("<p>${greeting}, pay ${amount}</p>", r"must contain \$\{link\}"),
])
def test_a_bad_html_email_template_is_refused_naming_what_is_wrong(
        notice_clinic: NoticeClinic, template: str, complaint: str) -> None:
    c = notice_clinic
    notices = c.services.billing_notices
    with pytest.raises(ValidationError, match=complaint) as refused:
        notices.update_settings(c.clinic.owner, allow_partial_payment=False,
                                link_expiry_minutes=1440, email_html_template=template)
    assert refused.value.field == "email_html_template"
    assert notices.settings(c.clinic.owner).email_html_template == ""


def test_the_html_email_preview_fills_in_a_made_up_patient(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    html = c.services.billing_notices.sample_email_html(
        c.clinic.owner, "<p>${greeting}: ${amount} at ${clinic} <a href='${link}'>Pay</a></p>")
    assert html.startswith("<p>Hello, Maddy: $90.40 at Maple Grove Wellness")
    with pytest.raises(ValidationError, match=r"\$\{oops\}"):
        c.services.billing_notices.sample_email_html(c.clinic.owner, "${oops} ${link}")
