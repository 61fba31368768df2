"""Pay-balance texts and emails, one-time invoice links and top-up links, end to end:
the real stripe SDK to the Checkout stand-in (and localstripe behind it), a real SMTP server,
the SMS provider's API on a local HTTP server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from desk_app.models import (
    CardOnFile,
    NoticeChannel,
    NoticeKind,
    NoticeStatus,
    Patient,
    Payment,
    StaffNotification,
)
from desk_app.services.clock import FixedClock
from desk_app.services.errors import Conflict, PermissionDenied, ValidationError
from desk_app.services.notice_messages import sms_segments
from tests.notice_fixtures import (
    MADDY_E164,
    MADDY_EMAIL,
    SMS_FROM,
    SMS_SID,
    SMS_TOKEN,
    NoticeClinic,
)
from tests.smtp_fixtures import SMTP_USER

CLINIC = "Maple Grove Wellness"
MASSAGE_TOTAL = "$124.30"  # Massage 60 min, HST included


def _text_of(message: object) -> tuple[str, str]:
    plain = message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = message.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    return plain, html


def test_text_reminder_includes_greeting_and_link(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    row = c.services.billing_notices.send_balance_reminder(
        c.desk, c.patient_id, NoticeChannel.TEXT, "Thanks for coming in today!")

    assert row.status is NoticeStatus.SENT and row.recipient == MADDY_E164
    (sent,) = c.sms.requests  # type: ignore[union-attr]
    assert sent.path == f"/2010-04-01/Accounts/{SMS_SID}/Messages.json"
    assert sent.auth == (SMS_SID, SMS_TOKEN)
    assert sent.form["To"] == MADDY_E164 and sent.form["From"] == SMS_FROM
    body = sent.form["Body"]
    assert body.startswith("Hello, Maddy. Thanks for coming in today!")
    (notice,) = c.notices()
    assert notice.link_url in body and notice.stripe_checkout_session_id in notice.link_url
    assert CLINIC in body and MASSAGE_TOTAL in body
    assert "Massage" not in body and "Okoye" not in body  # no treatment, no provider
    assert sms_segments(body) <= 2
    assert row.message == body and row.sent_by == "Robin Clarke"


def test_email_reminder_has_both_parts_and_no_clinical_detail(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    c.services.billing_notices.send_balance_reminder(
        c.desk, c.patient_id, NoticeChannel.EMAIL, "See you next week.")

    (message,) = c.smtp.inbox.messages  # type: ignore[union-attr]
    assert message["To"] == MADDY_EMAIL
    assert message["From"] == f"{CLINIC} <{SMTP_USER}>"
    assert message["Subject"] == f"Your balance at {CLINIC}"
    plain, html = _text_of(message)
    (notice,) = c.notices()
    for part in (plain, html):
        assert "Hello, Maddy" in part and "See you next week." in part
        assert notice.link_url in part and MASSAGE_TOTAL in part
        assert "Massage" not in part and "Okoye" not in part
    assert f'href="{notice.link_url}"' in html


def test_the_checkout_page_breaks_down_the_invoices_and_expires_in_24_hours(
        notice_clinic: NoticeClinic, clock: FixedClock) -> None:
    c = notice_clinic
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    session = c.checkout.sessions[notice.stripe_checkout_session_id]  # type: ignore[union-attr]
    assert session["expires_at"] == int((clock.now() + timedelta(hours=24)).timestamp())
    items = c.checkout.line_items[notice.stripe_checkout_session_id]  # type: ignore[union-attr]
    assert [(i["description"], i["amount_total"]) for i in items] == [
        ("Invoice of Nov 21, 2026", 12430)]
    assert session["metadata"]["notice_id"] == str(notice.id)


def test_a_patient_without_text_consent_cannot_be_texted(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    with c.db.transaction() as s:
        s.get_one(Patient, c.patient_id).consent_texts = False
    panel = c.services.billing_notices.panel(c.desk, c.patient_id)
    assert "has not agreed to receive texts" in panel.text_blocked
    assert panel.email_blocked == ""
    with pytest.raises(ValidationError, match="has not agreed to receive texts"):
        c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                         NoticeChannel.TEXT)
    assert c.notices() == [] and c.sms.requests == []  # type: ignore[union-attr]


def test_a_bad_mobile_number_is_refused_before_anything_is_made(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    with c.db.transaction() as s:
        s.get_one(Patient, c.patient_id).mobile_phone = "555-01"
    with pytest.raises(ValidationError, match="not a valid phone number"):
        c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                         NoticeChannel.TEXT)
    assert c.notices() == [] and c.checkout.sessions == {}  # type: ignore[union-attr]


def test_a_custom_message_too_long_for_two_texts_says_how_much_to_cut(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    with pytest.raises(ValidationError, match="Shorten your message by about"):
        c.services.billing_notices.send_balance_reminder(
            c.desk, c.patient_id, NoticeChannel.TEXT, "So good to see you! " * 12)
    assert c.notices() == [] and c.checkout.sessions == {}  # type: ignore[union-attr]


def test_sms_provider_failure_is_recorded_with_its_reason(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    c.sms.answer_next(400)  # type: ignore[union-attr]
    row = c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id,
                                                           NoticeChannel.TEXT)
    assert row.status is NoticeStatus.FAILED
    assert "refused the message (HTTP 400" in row.status_label
    assert len(c.sms.requests) == 1  # type: ignore[union-attr]


def test_a_paid_balance_link_records_one_payment_oldest_invoice_first_and_saves_the_card(
        notice_clinic: NoticeClinic, clock: FixedClock) -> None:
    c = notice_clinic
    clock.advance(timedelta(minutes=5))
    second = c.clinic.visit(c.patient_id, "Massage 60 min", when=datetime(2026, 11, 20, 12, 0))
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id)  # type: ignore[union-attr]

    report = c.services.link_payments.check_open_links(c.desk)
    again = c.services.link_payments.check_open_links(c.desk)

    assert report.paid == [notice.id] and again.checked == 0
    assert c.owing() == 0 and c.credit() == 0
    with c.db.reading() as s:
        (payment,) = s.scalars(select(Payment)).all()
        assert payment.amount_cents == 2 * 12430 and payment.note == "Collected by patient via link"
        assert payment.collected_by.value == "patient"
        (card,) = s.scalars(select(CardOnFile)).all()
        assert card.added_by.value == "patient" and card.last4 == "4242"
        payment_id = payment.id
    (paid,) = c.notices()
    assert paid.status is NoticeStatus.PAID and paid.payment_id == payment_id
    assert second
    # The payment's Activity on the Billing tab says who took it.
    [row] = c.services.ledger.billing_summary(c.desk, c.patient_id).payments
    assert row.collected_by == "the patient via link"


def test_a_wallet_payment_is_recorded_but_its_card_is_not_kept(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id, wallet="apple_pay")  # type: ignore[union-attr]
    c.services.link_payments.check_open_links(c.desk)
    assert c.owing() == 0
    with c.db.reading() as s:
        assert s.scalars(select(CardOnFile)).all() == []
        assert "Apple Pay" in s.scalars(select(Payment.reference)).one()


def test_an_unpaid_link_expires_with_the_clock(notice_clinic: NoticeClinic,
                                               clock: FixedClock) -> None:
    c = notice_clinic
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.EMAIL)
    clock.advance(timedelta(hours=23, minutes=59))
    assert c.services.link_payments.check_open_links(c.desk).expired == []
    clock.advance(timedelta(minutes=2))
    report = c.services.link_payments.check_open_links(c.desk)
    (notice,) = c.notices()
    assert report.expired == [notice.id] and notice.status is NoticeStatus.EXPIRED
    assert c.local_payments() == 0


def test_link_expiry_is_configurable_within_stripes_limits(notice_clinic: NoticeClinic,
                                                           clock: FixedClock) -> None:
    c = notice_clinic
    svc = c.services.billing_notices
    for bad in (29, 24 * 60 + 1):
        with pytest.raises(ValidationError, match="30 minutes to 24 hours"):
            svc.update_settings(c.owner, allow_partial_payment=False, link_expiry_minutes=bad)
    svc.update_settings(c.owner, allow_partial_payment=False, link_expiry_minutes=30)
    svc.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    assert notice.expires_at == clock.now() + timedelta(minutes=30)
    with pytest.raises(PermissionDenied):
        svc.update_settings(c.desk, allow_partial_payment=True, link_expiry_minutes=60)


def test_a_partial_payment_when_the_clinic_allows_it(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    c.services.billing_notices.update_settings(c.owner, allow_partial_payment=True,
                                               link_expiry_minutes=24 * 60)
    c.services.billing_notices.send_balance_reminder(c.desk, c.patient_id, NoticeChannel.TEXT)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id, amount=5000)  # type: ignore[union-attr]
    c.services.link_payments.check_open_links(c.desk)
    assert c.owing() == 12430 - 5000


def test_one_time_invoice_link_email_from_staff_with_clinic_subject(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    row = c.services.billing_notices.send_invoice_link(c.billing, c.invoice_id)
    assert row.status is NoticeStatus.SENT and row.kind is NoticeKind.INVOICE
    (message,) = c.smtp.inbox.messages  # type: ignore[union-attr]
    assert message["Subject"] == CLINIC
    assert message["From"].addresses[0].display_name == "Casey Wu"
    plain, html = _text_of(message)
    (notice,) = c.notices()
    assert notice.link_url in plain and notice.link_url in html
    for part in (plain, html):
        assert "Massage" not in part and "Okoye" not in part


def test_one_time_link_needs_the_billing_permission(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    with pytest.raises(PermissionDenied):
        c.services.billing_notices.send_invoice_link(c.desk, c.invoice_id)


def test_one_time_link_email_falls_back_to_household_then_bill_to(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    with c.db.transaction() as s:
        p = s.get_one(Patient, c.patient_id)
        p.email = ""
        p.bill_to_email = "payer@example.com"
    row = c.services.billing_notices.send_invoice_link(c.billing, c.invoice_id)
    assert row.recipient == "payer@example.com"
    with c.db.transaction() as s:
        s.get_one(Patient, c.patient_id).bill_to_email = ""
    with pytest.raises(ValidationError) as refused:
        c.services.billing_notices.send_invoice_link(c.billing, c.invoice_id)
    for place in ("patient's details", "household information", "bill-to contact"):
        assert place in refused.value.message


def test_resend_expires_the_old_link_and_sends_a_new_one(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    svc = c.services.billing_notices
    svc.send_invoice_link(c.billing, c.invoice_id)
    svc.send_invoice_link(c.billing, c.invoice_id)
    old, new = c.notices()
    assert old.status is NoticeStatus.EXPIRED and old.failure_reason == "replaced by a new link"
    assert new.status is NoticeStatus.SENT
    assert c.checkout.sessions[old.stripe_checkout_session_id]["status"] == "expired"  # type: ignore[union-attr]
    assert len(c.smtp.inbox.messages) == 2  # type: ignore[union-attr]


def test_paid_invoice_link_notifies_admins_and_billing_providers_only(
        notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    svc = c.services.billing_notices
    svc.send_invoice_link(c.billing, c.invoice_id)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id)  # type: ignore[union-attr]
    c.services.link_payments.check_open_links(c.owner)
    with c.db.reading() as s:
        from desk_app.models import Role, Staff

        notified = {st.username for st in s.scalars(
            select(Staff).join(StaffNotification, StaffNotification.staff_id == Staff.id))}
        admins = set(s.scalars(select(Staff.username).where(
            Staff.role.in_([Role.FULL_ACCESS, Role.ADMIN_BILLING]))))
    assert admins <= notified
    assert "dokoye" not in notified  # the rendering provider lacks the Billing permission
    assert c.services.notifications.unread_count(c.owner) == 1
    (note,) = c.services.notifications.list_for(c.owner)
    assert note.title == "Maddy Smith paid $124.30 online"
    assert c.services.notifications.mark_all_read(c.owner) == 1
    assert c.services.notifications.unread_count(c.owner) == 0


def test_top_up_link_only_when_add_account_credit_is_on(notice_clinic: NoticeClinic) -> None:
    c = notice_clinic
    c.services.clinic.update(c.owner, enable_add_account_credit=False)
    with pytest.raises(Conflict, match="Enable Add Account Credit"):
        c.services.billing_notices.send_top_up_link(c.desk, c.patient_id, NoticeChannel.EMAIL)
    c.services.clinic.update(c.owner, enable_add_account_credit=True)
    c.services.billing_notices.send_top_up_link(c.desk, c.patient_id, NoticeChannel.EMAIL)
    (notice,) = c.notices()
    c.checkout.pay(notice.stripe_checkout_session_id, amount=4000)  # type: ignore[union-attr]
    c.services.link_payments.check_open_links(c.desk)
    assert c.credit() == 4000 and c.owing() == 12430
    with c.db.reading() as s:
        payment = s.scalars(select(Payment)).one()
        assert payment.collected_by.value == "patient"
