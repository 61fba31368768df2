"""Billing-notice GUI fixtures: the demo clinic with a payment account behind the Checkout
stand-in, texts going to the local SMS API, and Maddy consenting to texts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from desk_app.models import Patient
from desk_app.services.db import Database
from desk_app.services.payment_accounts import PaymentAccountInput
from desk_app.services.registry import Services
from desk_app.services.secret_store import SMS_SERVICE, SMTP_SERVICE
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.checkout_stand_in import CheckoutStandIn
from tests.db_fixtures import actor_named
from tests.gui.conftest import signed_in
from tests.memory_keyring import MemoryKeyring
from tests.notice_fixtures import SMS_SID, SMS_TOKEN, SmsApi, services_for
from tests.smtp_fixtures import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.stripe_fixtures import PUBLISHABLE_KEY, SECRET_KEY


@dataclass
class NoticeDesk:
    ctx: ViewContext
    services: Services
    patient_id: uuid.UUID
    checkout: CheckoutStandIn
    sms: SmsApi
    smtp: SmtpServer


@pytest.fixture
def notice_desk(demo_db: Database, checkout: CheckoutStandIn, sms_api: SmsApi,
                memory_keyring: MemoryKeyring, tasks: TaskRunner, notice_smtp: SmtpServer,
                maddy_id: uuid.UUID) -> NoticeDesk:
    memory_keyring.set_password(SMS_SERVICE, SMS_SID, SMS_TOKEN)
    memory_keyring.set_password(SMTP_SERVICE, SMTP_USER, SMTP_PASSWORD)
    services = services_for(demo_db, checkout, sms=sms_api, smtp=notice_smtp)
    owner = actor_named(demo_db, "owner")
    services.payment_accounts.add_account(owner, PaymentAccountInput(
        label="Harbour Physio", publishable_key=PUBLISHABLE_KEY, secret_key=SECRET_KEY))
    with demo_db.transaction() as s:
        maddy = s.get_one(Patient, maddy_id)
        maddy.mobile_phone = "416-555-0123"
        maddy.consent_texts = True
    desk = actor_named(demo_db, "frontdesk")
    return NoticeDesk(signed_in(services, desk, tasks), services, maddy_id, checkout, sms_api,
                      notice_smtp)
