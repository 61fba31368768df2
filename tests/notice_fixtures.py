"""Billing-notice test fixtures: Checkout at the stand-in, an SMS API, SMTP, a notice clinic.

- ``checkout``: the Checkout Session stand-in (tests/checkout_stand_in.py) in front of
  localstripe, on this test's clock.
- ``sms_api``: a Twilio-compatible Messages endpoint on 127.0.0.1 (stdlib HTTP server) that
  records each request and answers from a queue of statuses (201 when the queue is empty).
- ``shortener_api``: a Bitly-v4-compatible ``POST /v4/shorten`` on 127.0.0.1 that records
  each JSON body and bearer token and answers from a queue of statuses (200 with ``link``
  when the queue is empty).
- ``notice_clinic``: the card clinic (SQLite and PostgreSQL) whose Stripe is the stand-in,
  whose email goes to a real SMTP server (aiosmtpd) and whose texts go to ``sms_api``;
  the patient Maddy has a mobile number, an email address and consented to texts.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from desk_app.models import BillingNotice
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.mail import Mailer, SmtpSecurity, SmtpSettings
from desk_app.services.payment_accounts import PaymentAccountInput
from desk_app.services.registry import Services
from desk_app.services.secret_store import SMS_SERVICE, SMTP_SERVICE
from desk_app.services.sms import SmsSettings
from desk_app.services.stripe_gateway import StripeGatewayFactory
from tests.builders import small_clinic
from tests.checkout_stand_in import CheckoutStandIn
from tests.memory_keyring import MemoryKeyring
from tests.smtp_fixtures import SMTP_PASSWORD, SMTP_USER, SmtpServer, start_server
from tests.stripe_fixtures import PUBLISHABLE_KEY, SECRET_KEY, CardClinic
from tests.stripe_server import LocalStripe

SMS_SID = "AC0123456789abcdef0123456789abcdef"
SMS_TOKEN = "sms-auth-token"
SMS_FROM = "+14165550100"
MADDY_MOBILE = "(416) 555-0123"
MADDY_E164 = "+14165550123"
MADDY_EMAIL = "maddy@example.com"


@dataclass
class SmsRequest:
    path: str
    form: dict[str, str]
    auth: tuple[str, str]


@dataclass
class SmsApi:
    """A stand-in for the SMS provider's REST API."""

    requests: list[SmsRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    url: str = ""

    def answer_next(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


class _JsonApiHandler(BaseHTTPRequestHandler):
    """A quiet request handler that answers with a JSON object."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """`server` answering on its own thread; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _sms_server(api: SmsApi) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(_JsonApiHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
            user, _, password = (base64.b64decode(encoded).decode()
                                 if scheme == "Basic" else ":").partition(":")
            with lock:
                api.requests.append(SmsRequest(self.path, form, (user, password)))
                status = api.statuses.pop(0) if api.statuses else 201
            if status < 300:
                body = {"sid": f"SM{uuid.uuid4().hex}", "status": "queued", "to": form.get("To"),
                        "from": form.get("From"), "body": form.get("Body")}
            else:
                body = {"code": 21211 if status == 400 else 20500, "status": status,
                        "message": "The 'To' number is not a valid phone number."
                        if status == 400 else "Service unavailable"}
            self.answer(status, body)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


SHORTENER_TOKEN = "shortener-access-token-1234"
SHORT_DOMAIN = "go.maplegrove.example"


@dataclass
class ShortenRequest:
    path: str
    body: dict[str, Any]
    authorization: str
    content_type: str


@dataclass
class ShortenerApi:
    """A stand-in for a link shortener with Bitly's v4 API."""

    requests: list[ShortenRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    url: str = ""
    links: list[str] = field(default_factory=list)

    def answer_next(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


def _shortener_server(api: ShortenerApi) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(_JsonApiHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            with lock:
                api.requests.append(ShortenRequest(
                    self.path, body, self.headers.get("Authorization") or "",
                    self.headers.get("Content-Type") or ""))
                status = api.statuses.pop(0) if api.statuses else 200
                code = f"{len(api.requests):07d}"[-7:]
            if status < 300:
                link = f"https://{body.get('domain') or 'bit.ly'}/{code}"
                api.links.append(link)
                answer: dict[str, Any] = {
                    "created_at": "2026-11-21T15:00:00+0000", "id": link[8:], "link": link,
                    "custom_bitlinks": [], "long_url": body.get("long_url"), "archived": False,
                    "tags": [], "deeplinks": [], "references": {}}
            else:
                answer = {"message": "INVALID_ARG_DOMAIN" if status == 400 else "UNAVAILABLE",
                          "resource": "bitlinks", "description": "The value provided is "
                          "invalid." if status == 400 else "Try again later."}
            self.answer(status, answer)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def shortener_api() -> Iterator[ShortenerApi]:
    api = ShortenerApi()
    with _serving(_shortener_server(api)) as api.url:
        yield api


@pytest.fixture
def sms_api() -> Iterator[SmsApi]:
    api = SmsApi()
    with _serving(_sms_server(api)) as api.url:
        yield api


@pytest.fixture
def checkout(localstripe_server: LocalStripe, stripe_url: str,
             clock: FixedClock) -> Iterator[CheckoutStandIn]:
    stand_in = CheckoutStandIn(stripe_url, clock)
    try:
        yield stand_in
    finally:
        stand_in.close()


@pytest.fixture
def notice_smtp() -> Iterator[SmtpServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.controller.stop()


@dataclass
class NoticeClinic(CardClinic):
    checkout: CheckoutStandIn | None = None
    sms: SmsApi | None = None
    smtp: SmtpServer | None = None

    def notices(self) -> list[BillingNotice]:
        from sqlalchemy import select

        with self.db.transaction() as s:
            rows = list(s.scalars(select(BillingNotice).order_by(BillingNotice.created_at)))
            s.expunge_all()
            return rows


def services_for(db: Database, checkout: CheckoutStandIn, *, sms: SmsApi | None,
                 smtp: SmtpServer | None) -> Services:
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=smtp.port, security=SmtpSecurity.NONE,
                                 username=SMTP_USER, from_address=SMTP_USER,
                                 timeout_seconds=5.0), clock=db.clock) if smtp else None
    return Services.build(
        db, gateway_factory=StripeGatewayFactory(api_base=checkout.url, timeout=5.0),
        mailer=mailer,
        sms=SmsSettings(account_sid=SMS_SID, from_number=SMS_FROM, base_url=sms.url,
                        timeout_seconds=5.0, backoff_seconds=0.01) if sms else None,
        payment_link_success_url="https://maplegrove.example/thank-you")


def build_notice_clinic(db: Database, stripe_url: str, checkout: CheckoutStandIn,
                        keyring_backend: MemoryKeyring, *, sms: SmsApi | None,
                        smtp: SmtpServer | None) -> NoticeClinic:
    keyring_backend.set_password(SMS_SERVICE, SMS_SID, SMS_TOKEN)
    keyring_backend.set_password(SMTP_SERVICE, SMTP_USER, SMTP_PASSWORD)
    clinic = small_clinic(db)
    services = services_for(db, checkout, sms=sms, smtp=smtp)
    account = services.payment_accounts.add_account(
        clinic.owner, PaymentAccountInput(label="Harbour Physio",
                                          publishable_key=PUBLISHABLE_KEY,
                                          secret_key=SECRET_KEY))
    patient = clinic.patient("Madeleine", "Smith", preferred_name="Maddy",
                             mobile_phone=MADDY_MOBILE, email=MADDY_EMAIL, consent_texts=True)
    from datetime import datetime

    invoice = clinic.visit(patient, when=datetime(2026, 11, 20, 10, 0))
    return NoticeClinic(db, clinic, services, stripe_url, account.id, patient, invoice,
                        checkout=checkout, sms=sms, smtp=smtp)


@pytest.fixture
def notice_clinic(db: Database, stripe_url: str, checkout: CheckoutStandIn,
                  memory_keyring: MemoryKeyring, sms_api: SmsApi,
                  notice_smtp: SmtpServer) -> NoticeClinic:
    return build_notice_clinic(db, stripe_url, checkout, memory_keyring, sms=sms_api,
                               smtp=notice_smtp)
