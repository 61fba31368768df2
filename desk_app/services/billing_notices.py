"""Billing notices: pay-balance texts and emails, one-time invoice links, credit top-up links.

Each send is one Stripe Checkout Session (the patient's page: what is owed, by invoice date and
amount, payable by card, Apple Pay or Google Pay) and one message carrying its link:

1. read and check everything (permission, consent, the address or number, the balance);
2. make the patient's Stripe customer if needed and the Checkout Session (network);
3. write the notice, queued (one transaction, audited);
4. send the message by SMS or email, or into the outbox when no provider is configured;
5. record sent / not sent / failed (one transaction, audited).

Sending talks to Stripe and the provider: call these methods off the UI thread (the network
pool). Learning that a link was paid is ``link_payments``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import Invoice, InvoiceLine
from desk_app.models.billing_notices import (
    BillingNotice,
    NoticeChannel,
    NoticeKind,
    NoticeSettings,
    NoticeStatus,
)
from desk_app.models.clinic import Clinic
from desk_app.models.enums import InvoiceStatus
from desk_app.models.money import format_money
from desk_app.models.patient import Patient
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.cards import CardService
from desk_app.services.charge_targets import MAX_CHARGE_CENTS
from desk_app.services.contact_checks import e164_phone, valid_email
from desk_app.services.db import Database
from desk_app.services.errors import (
    Conflict,
    ExternalServiceError,
    NotFound,
    ServiceError,
    ValidationError,
)
from desk_app.services.ledger import invoice_applied, patient_balance
from desk_app.services.link_payments import DEFAULT_SUCCESS_URL
from desk_app.services.link_shortener import (
    LinkShortener,
    ShortenerError,
    ShortenerSettings,
    check_shortener,
)
from desk_app.services.mail import Mailer, OutgoingEmail, mask_address
from desk_app.services.notice_messages import (
    MAX_SEGMENTS,
    MessageFacts,
    bundled_template,
    check_template,
    greeting_for,
    render_email,
    render_text,
    sms_segments,
)
from desk_app.services.patient_access import require_patient, require_patient_of
from desk_app.services.payment_accounts import PaymentAccountService, account_served_at
from desk_app.services.permissions import Permission, has_permission, require
from desk_app.services.secret_store import SecretStore
from desk_app.services.sms import SmsSender
from desk_app.services.stripe_gateway import (
    CheckoutLine,
    CheckoutRequest,
    CheckoutSessionInfo,
    CustomAmount,
    GatewayError,
    PaymentGateway,
)

log = logging.getLogger(__name__)

MIN_EXPIRY_MINUTES = 30
MAX_EXPIRY_MINUTES = 24 * 60
#: The smallest top-up or partial payment a patient may choose ($1.00).
MIN_CHOSEN_CENTS = 100
#: In a preview the link is not made yet; this stands in for it (as long as the links the
#: Checkout stand-in in tests makes by default).
PREVIEW_LINK = "https://checkout.stripe.com/c/pay/cs_live_" + "x" * 24
#: About how long a real Stripe Checkout URL is: the session id and a fragment of a few
#: hundred characters. Texts without a link shortener are counted with a link this long (or
#: the longest the account has actually made lately, if longer).
STRIPE_CHECKOUT_URL_LENGTH = 400
#: Recent links of an account looked at to learn how long its links are.
RECENT_LINKS = 20


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: uuid.UUID
    kind: NoticeKind
    channel: NoticeChannel
    recipient: str
    created_at: datetime
    sent_by: str
    status: NoticeStatus
    failure_reason: str
    amount_cents: int
    currency: str
    expires_at: datetime
    paid_at: datetime | None
    message: str
    invoice_number: str

    @property
    def status_label(self) -> str:
        if self.status is NoticeStatus.FAILED and self.failure_reason:
            return f"Failed: {self.failure_reason}"
        if self.status is NoticeStatus.EXPIRED and self.failure_reason:
            return f"Expired ({self.failure_reason})"
        return self.status.label

    @property
    def amount_label(self) -> str:
        if self.kind is NoticeKind.TOP_UP and self.amount_cents == 0:
            return "Patient chooses"
        return format_money(self.amount_cents, self.currency)


@dataclass(frozen=True, slots=True)
class NoticePanel:
    """What the Billing Notices panel shows for one patient."""

    patient_id: uuid.UUID
    owing_cents: int
    currency: str
    greeting: str
    mobile: str  # E.164, or "" when none or not valid
    email: str
    text_blocked: str  # why the Text Reminder is off ("" when it may be sent)
    email_blocked: str
    top_up_enabled: bool
    history: tuple[NoticeRow, ...]

    @property
    def owing_label(self) -> str:
        return format_money(self.owing_cents, self.currency)


@dataclass(frozen=True, slots=True)
class NoticeDraft:
    """Exactly what would be sent (the link as a placeholder until Send makes it)."""

    channel: NoticeChannel
    recipient: str
    subject: str
    text: str
    html: str
    segments: int
    #: What stands in for the link until Send makes it (texts), said under the preview.
    link_note: str = ""


@dataclass(frozen=True, slots=True)
class NoticeSettingsInfo:
    allow_partial_payment: bool
    link_expiry_minutes: int
    text_template: str
    email_text_template: str
    email_html_template: str
    version: int
    shortener_base_url: str = ""
    shortener_domain: str = ""
    #: This computer's keyring holds the shortener's access token.
    shortener_token_stored: bool = False


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything read and checked before Stripe is asked."""

    kind: NoticeKind
    channel: NoticeChannel
    patient_id: uuid.UUID
    recipient: str
    account_id: uuid.UUID
    currency: str
    amount_cents: int
    allow_partial: bool
    lines: tuple[CheckoutLine, ...]
    custom_amount: CustomAmount | None
    invoice_id: uuid.UUID | None
    expiry: timedelta
    facts: MessageFacts
    subject: str
    from_name: str
    reply_to: str
    text_template: str
    email_text_template: str
    email_html_template: str
    clinic_id: uuid.UUID
    #: Texts get a short link made by this service (None: the Checkout URL itself).
    shortener: ShortenerSettings | None
    #: How long the link is counted in a preview and the fit check before Send.
    link_budget: int


class BillingNoticeService:
    def __init__(self, db: Database, accounts: PaymentAccountService, cards: CardService,
                 mailer: Mailer, sms: SmsSender, *,
                 success_url: str = DEFAULT_SUCCESS_URL,
                 secrets: SecretStore | None = None,
                 shortener: LinkShortener | None = None,
                 checkout_link_length: int = len(PREVIEW_LINK)) -> None:
        """``checkout_link_length``: how long the Checkout URLs of the Stripe in use are
        expected to be before one is made (STRIPE_CHECKOUT_URL_LENGTH for real Stripe)."""
        self.db = db
        self.accounts = accounts
        self.cards = cards
        self.mailer = mailer
        self.sms = sms
        self.success_url = success_url
        if shortener is None:
            from desk_app.services.secret_store import KeyringSecretStore

            shortener = LinkShortener(secrets or KeyringSecretStore())
        self.shortener = shortener
        self.checkout_link_length = checkout_link_length
        self._send_lock = threading.Lock()

    # ----- reading --------------------------------------------------------------------------

    def panel(self, actor: Actor, patient_id: uuid.UUID) -> NoticePanel:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            patient, clinic = self._patient(s, actor, patient_id)
            balance = patient_balance(s, patient_id, clinic.currency)
            mobile, text_blocked = self._text_recipient(patient, clinic)
            email, email_blocked = "", ""
            try:
                email = valid_email(patient.email)
            except ValidationError:
                email_blocked = ("There is no valid email address on file; add one on the "
                                 "Contact tab.") if patient.email.strip() else (
                                 "There is no email address on file; add one on the Contact "
                                 "tab.")
            owing_block = "" if balance.owing_cents > 0 else "Nothing is owing."
            account_block = "" if self._primary_account(s, actor) else (
                "Set up a payment account in Clinic ▸ Payment accounts first.")
            blocked = owing_block or account_block
            if not blocked and not text_blocked:
                text_blocked = self._text_fit_problem(s, actor, patient, clinic, mobile,
                                                      balance.owing_cents)
            return NoticePanel(
                patient_id=patient_id,
                owing_cents=balance.owing_cents,
                currency=clinic.currency,
                greeting=greeting_for(patient.preferred_name, patient.legal_first_name),
                mobile=mobile,
                email=email,
                text_blocked=blocked or text_blocked,
                email_blocked=blocked or email_blocked,
                top_up_enabled=clinic.enable_add_account_credit and not account_block,
                history=tuple(self._history(s, patient_id)),
            )

    def history(self, actor: Actor, patient_id: uuid.UUID) -> list[NoticeRow]:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            self._patient(s, actor, patient_id)
            return self._history(s, patient_id)

    def preview(self, actor: Actor, patient_id: uuid.UUID, channel: NoticeChannel,
                custom_message: str = "", kind: NoticeKind = NoticeKind.BALANCE) -> NoticeDraft:
        """The pay-balance (or top-up) message as it will be sent, with a placeholder for the
        link (made when it is sent)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            if kind is NoticeKind.TOP_UP:
                plan = self._plan_top_up(s, actor, patient_id, channel)
            else:
                plan = self._plan_balance(s, actor, patient_id, channel)
        return self._draft(plan, self._placeholder(plan), custom_message)

    def sample_email_html(self, actor: Actor, html_template: str) -> str:
        """The clinic's HTML email template (empty: the standard one) filled in for a made-up
        patient, for the template editor's preview; ValidationError naming any unknown
        placeholder."""
        require(actor, Permission.MANAGE_CLINIC)
        if html_template.strip():
            check_template(html_template, "email (HTML)", "email_html_template")
        with self.db.reading() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            name = clinic.name
            contact = " · ".join(x for x in (clinic.phone, clinic.email) if x)
            facts = MessageFacts(
                greeting="Hello, Maddy", clinic=clinic.name, clinic_contact=contact,
                what="your balance", amount=format_money(9040, clinic.currency),
                link=PREVIEW_LINK, expires_at=self.db.clock.now() + timedelta(hours=24),
                time_zone=clinic.time_zone)
        parts = render_email(bundled_template("email.txt"),
                             html_template.strip() or bundled_template("email.html"), facts,
                             "Thanks for coming in today!", f"Your balance at {name}")
        return parts.html

    # ----- settings -------------------------------------------------------------------------

    def settings(self, actor: Actor) -> NoticeSettingsInfo:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            info = _settings_info(_settings_row(s, actor.clinic_id))
        return replace(info, shortener_token_stored=self._token_stored(actor))

    def update_settings(self, actor: Actor, *, allow_partial_payment: bool,
                        link_expiry_minutes: int, text_template: str = "",
                        email_text_template: str = "", email_html_template: str = "",
                        shortener_base_url: str = "", shortener_domain: str = "",
                        shortener_token: str | None = None,
                        version: int | None = None) -> NoticeSettingsInfo:
        """Settings > Billing notices (Full Access). Empty templates mean the bundled ones.
        ``shortener_token``: a new access token for the link shortener, kept in this
        computer's keyring only (None or "": keep the one stored)."""
        require(actor, Permission.MANAGE_CLINIC)
        if not MIN_EXPIRY_MINUTES <= link_expiry_minutes <= MAX_EXPIRY_MINUTES:
            raise ValidationError(
                "Stripe keeps a payment link open from 30 minutes to 24 hours; enter a number "
                f"of minutes from {MIN_EXPIRY_MINUTES} to {MAX_EXPIRY_MINUTES}.",
                "link_expiry_minutes",
            )
        for template, what, field in (
                (text_template, "text", "template"), (email_text_template, "email", "template"),
                (email_html_template, "email (HTML)", "email_html_template")):
            if template.strip():
                check_template(template, what, field)
        if text_template.strip() and "${link}" not in text_template:
            raise ValidationError("The text template must contain ${link}.", "template")
        if email_html_template.strip() and "${link}" not in email_html_template:
            raise ValidationError("The HTML email template must contain ${link}.",
                                  "email_html_template")
        base_url, domain = check_shortener(shortener_base_url, shortener_domain)
        if shortener_token and shortener_token.strip():
            if not base_url:
                raise ValidationError("Enter the shortener's API address and domain with its "
                                      "access token.", "shortener_base_url")
            try:
                self.shortener.store_token(str(actor.clinic_id), shortener_token)
            except ShortenerError as exc:
                raise ExternalServiceError(exc.message) from None
        with self.db.transaction() as s:
            row = _settings_row(s, actor.clinic_id, create=True)
            assert row is not None
            if version is not None and row.version != version:
                raise Conflict("Someone else changed these settings; reopen them and retry.")
            row.allow_partial_payment = allow_partial_payment
            row.link_expiry_minutes = link_expiry_minutes
            row.text_template = text_template.strip()
            row.email_text_template = email_text_template.strip()
            row.email_html_template = email_html_template.strip()
            row.shortener_base_url = base_url
            row.shortener_domain = domain
            s.flush()
            audit.record(s, actor, "notice.settings_changed", entity=row,
                         summary="Billing notice settings changed",
                         details={"allow_partial_payment": allow_partial_payment,
                                  "link_expiry_minutes": link_expiry_minutes,
                                  "shortener": f"{base_url} ({domain})" if base_url else "none",
                                  "shortener_token_changed": bool(shortener_token
                                                                  and shortener_token.strip())})
            info = _settings_info(row)
        return replace(info, shortener_token_stored=self._token_stored(actor))

    def _token_stored(self, actor: Actor) -> bool:
        try:
            return bool(self.shortener.token(str(actor.clinic_id)))
        except ShortenerError:
            return False

    # ----- sending ----------------------------------------------------------------------------

    def send_balance_reminder(self, actor: Actor, patient_id: uuid.UUID,
                              channel: NoticeChannel, custom_message: str = "") -> NoticeRow:
        """Text Reminder / Email Reminder: a link to pay the outstanding balance. Blocks."""
        require(actor, Permission.TAKE_PAYMENT)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            plan = self._plan_balance(s, actor, patient_id, channel)
        return self._send(actor, plan, custom_message)

    def send_top_up_link(self, actor: Actor, patient_id: uuid.UUID, channel: NoticeChannel,
                         custom_message: str = "") -> NoticeRow:
        """A link where the patient picks an amount that becomes account credit in the primary
        account (collected by the patient). Blocks."""
        require(actor, Permission.TAKE_PAYMENT)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            plan = self._plan_top_up(s, actor, patient_id, channel)
        return self._send(actor, plan, custom_message)

    def send_invoice_link(self, actor: Actor, invoice_id: uuid.UUID) -> NoticeRow:
        """Send 1-Time Payment Link (the invoice's action menu): email only, Billing permission,
        expires after 24 hours. Any earlier open link for the invoice is expired first
        (Resend). Blocks."""
        require(actor, Permission.SEND_PAYMENT_LINKS)
        with self.db.reading() as s:
            require_patient_of(s, actor, Invoice, invoice_id)
            invoice = s.get(Invoice, invoice_id)
            if invoice is None or invoice.clinic_id != actor.clinic_id:
                raise NotFound("That invoice no longer exists.")
            if invoice.status != InvoiceStatus.OPEN:
                raise Conflict(f"Invoice {invoice.number} was deleted; it cannot be paid.")
            patient, clinic = self._patient(s, actor, invoice.patient_id)
            owing = invoice.total_cents - invoice_applied(s, invoice.id)
            if owing <= 0:
                raise Conflict(f"Invoice {invoice.number} is already paid in full.")
            practitioner = s.scalar(select(InvoiceLine.practitioner_id).where(
                InvoiceLine.invoice_id == invoice.id, InvoiceLine.practitioner_id.is_not(None))
                .order_by(InvoiceLine.position).limit(1))
            account = account_served_at(s, actor.clinic_id, practitioner_id=practitioner,
                                        location_id=invoice.location_id)
            if account is None:
                raise Conflict("A 1-time payment link needs a connected payment account; a "
                               "Full Access user can set one up in Clinic ▸ Payment accounts.")
            recipient = self._invoice_email(patient)
            day = _day(invoice.issued_at, clinic.time_zone)
            staff = s.get(Staff, actor.staff_id)
            plan = self._plan(
                s, actor, patient, clinic, NoticeKind.INVOICE, NoticeChannel.EMAIL, recipient,
                account, amount=owing, allow_partial=False,
                lines=(CheckoutLine(f"Invoice {invoice.number} of {day}", owing),),
                custom=None, what=f"the amount due on your invoice of {day}",
                amount_text=format_money(owing, clinic.currency), invoice_id=invoice.id,
                subject=clinic.name, from_name=staff.full_name if staff else actor.name,
                expiry=timedelta(hours=24))
            earlier = list(s.scalars(select(BillingNotice.id).where(
                BillingNotice.invoice_id == invoice.id,
                BillingNotice.kind == NoticeKind.INVOICE,
                BillingNotice.status.in_([st for st in NoticeStatus if st.link_open]))))
        for notice_id in earlier:
            self._expire_replaced(actor, notice_id)
        return self._send(actor, plan, "")

    # ----- planning ---------------------------------------------------------------------------

    def _plan_balance(self, s: Session, actor: Actor, patient_id: uuid.UUID,
                      channel: NoticeChannel) -> _Plan:
        patient, clinic = self._patient(s, actor, patient_id)
        account = self._primary_account(s, actor)
        if account is None:
            raise Conflict("Set up a payment account in Clinic ▸ Payment accounts first.")
        recipient = self._recipient(patient, clinic, channel)
        owing_invoices = _owing_invoices(s, patient_id)
        total = sum(cents for _, _, cents in owing_invoices)
        if total <= 0:
            raise Conflict("This patient owes nothing: there is no balance to ask for.")
        if total > MAX_CHARGE_CENTS:
            raise ValidationError(f"A payment link is limited to "
                                  f"{format_money(MAX_CHARGE_CENTS, clinic.currency)}.")
        settings = _settings_row(s, actor.clinic_id)
        partial = bool(settings and settings.allow_partial_payment)
        lines = tuple(
            CheckoutLine(f"Invoice of {_day(issued, clinic.time_zone)}", cents)
            for issued, _number, cents in owing_invoices)
        custom = None
        if partial:
            breakdown = "; ".join(f"{line.name[11:]}: "
                                  f"{format_money(line.amount_cents, clinic.currency)}"
                                  for line in lines)
            custom = CustomAmount(f"Balance at {clinic.name} ({breakdown})"[:250],
                                  min(MIN_CHOSEN_CENTS, total), total, total)
        return self._plan(
            s, actor, patient, clinic, NoticeKind.BALANCE, channel, recipient, account,
            amount=total, allow_partial=partial, lines=lines, custom=custom,
            what="your balance", amount_text=format_money(total, clinic.currency),
            invoice_id=None, subject=f"Your balance at {clinic.name}", from_name=clinic.name)

    def _plan_top_up(self, s: Session, actor: Actor, patient_id: uuid.UUID,
                     channel: NoticeChannel) -> _Plan:
        patient, clinic = self._patient(s, actor, patient_id)
        if not clinic.enable_add_account_credit:
            raise Conflict("Adding account credit is turned off for this clinic (Clinic "
                           "settings ▸ Enable Add Account Credit).")
        account = self._primary_account(s, actor)
        if account is None:
            raise Conflict("Set up a payment account in Clinic ▸ Payment accounts first.")
        recipient = self._recipient(patient, clinic, channel)
        return self._plan(
            s, actor, patient, clinic, NoticeKind.TOP_UP, channel, recipient, account,
            amount=0, allow_partial=True, lines=(),
            custom=CustomAmount(f"Account credit at {clinic.name}", MIN_CHOSEN_CENTS,
                                MAX_CHARGE_CENTS, None),
            what="the amount to add to your account credit", amount_text="yours to choose",
            invoice_id=None, subject=f"Add credit to your account at {clinic.name}",
            from_name=clinic.name)

    def _plan(self, s: Session, actor: Actor, patient: Patient, clinic: Clinic,
              kind: NoticeKind, channel: NoticeChannel, recipient: str, account: uuid.UUID,
              *, amount: int, allow_partial: bool, lines: tuple[CheckoutLine, ...],
              custom: CustomAmount | None, what: str, amount_text: str,
              invoice_id: uuid.UUID | None, subject: str, from_name: str,
              expiry: timedelta | None = None) -> _Plan:
        settings = _settings_row(s, actor.clinic_id)
        minutes = settings.link_expiry_minutes if settings else MAX_EXPIRY_MINUTES
        contact = " · ".join(x for x in (clinic.phone, clinic.email) if x)
        shortener = (ShortenerSettings(settings.shortener_base_url, settings.shortener_domain)
                     if settings and settings.shortener_base_url else None)
        if shortener is not None:
            budget = len(shortener.placeholder_link())
        else:
            budget = max([self.checkout_link_length, *(len(url) for url in s.scalars(
                select(BillingNotice.link_url).where(BillingNotice.payment_account_id == account)
                .order_by(BillingNotice.created_at.desc()).limit(RECENT_LINKS)))])
        facts = MessageFacts(
            greeting=greeting_for(patient.preferred_name, patient.legal_first_name),
            clinic=clinic.name, clinic_contact=contact, what=what, amount=amount_text,
            link="", expires_at=self.db.clock.now(), time_zone=clinic.time_zone)
        return _Plan(
            kind=kind, channel=channel, patient_id=patient.id, recipient=recipient,
            account_id=account, currency=clinic.currency, amount_cents=amount,
            allow_partial=allow_partial, lines=lines, custom_amount=custom,
            invoice_id=invoice_id, expiry=expiry or timedelta(minutes=minutes), facts=facts,
            subject=subject, from_name=from_name, reply_to=clinic.email,
            text_template=(settings.text_template if settings else "")
            or bundled_template("text.txt"),
            email_text_template=(settings.email_text_template if settings else "")
            or bundled_template("email.txt"),
            email_html_template=(settings.email_html_template if settings else "")
            or bundled_template("email.html"),
            clinic_id=clinic.id, shortener=shortener, link_budget=budget,
        )

    @staticmethod
    def _placeholder(plan: _Plan) -> str:
        """What stands in for the link before it is made: as long as the one that will be
        sent (a short link's exact length; else as long as the account's links are)."""
        if plan.channel is NoticeChannel.TEXT and plan.shortener is not None:
            return plan.shortener.placeholder_link()
        if plan.channel is NoticeChannel.TEXT and plan.link_budget > len(PREVIEW_LINK):
            stem = "https://checkout.stripe.com/c/pay/cs_live_" + "x" * 58 + "#"
            return (stem + "x" * plan.link_budget)[:plan.link_budget]
        return PREVIEW_LINK

    def _text_fit_problem(self, s: Session, actor: Actor, patient: Patient, clinic: Clinic,
                          mobile: str, owing_cents: int) -> str:
        """Why a Text Reminder cannot fit two SMS messages even with no message added ("" when
        it can): Stripe's own links are too long for a text without a link shortener. (The
        balance text as Send would word it; two small reads, not the invoice breakdown.)"""
        account = self._primary_account(s, actor)
        if not self.sms.configured or account is None:
            return ""
        plan = self._plan(
            s, actor, patient, clinic, NoticeKind.BALANCE, NoticeChannel.TEXT, mobile, account,
            amount=owing_cents, allow_partial=False, lines=(), custom=None,
            what="your balance", amount_text=format_money(owing_cents, clinic.currency),
            invoice_id=None, subject="", from_name=clinic.name)
        try:
            self._draft(plan, self._placeholder(plan), "")
        except ValidationError as exc:
            return exc.message
        return ""

    def _draft(self, plan: _Plan, link: str, custom_message: str,
               expires_at: datetime | None = None) -> NoticeDraft:
        expires = expires_at or (self.db.clock.now() + plan.expiry)
        facts = replace(plan.facts, link=link, expires_at=expires)
        if plan.channel is NoticeChannel.TEXT:
            # The outbox is no carrier: a text kept there is not held to the two-message rule.
            limit = MAX_SEGMENTS if self.sms.configured else None
            try:
                body = render_text(plan.text_template, facts, custom_message,
                                   max_segments=limit)
            except ValidationError as exc:
                if plan.shortener is None and len(link) > len(PREVIEW_LINK):
                    raise self._needs_shortener(plan, facts, link, exc) from None
                raise
            if plan.shortener is not None and link == plan.shortener.placeholder_link():
                note = (f"The short link is made when you press Send; {link} stands in for "
                        "it here, at its length.")
            elif link.startswith("https://checkout.stripe.com/c/pay/cs_live_xxx"):
                note = (f"The payment link is made when you press Send; a stand-in of "
                        f"{len(link)} characters is shown here.")
            else:
                note = ""
            return NoticeDraft(plan.channel, plan.recipient, "", body, "", sms_segments(body),
                               note)
        parts = render_email(plan.email_text_template, plan.email_html_template, facts,
                             custom_message, plan.subject)
        return NoticeDraft(plan.channel, plan.recipient, parts.subject, parts.text, parts.html, 0)

    @staticmethod
    def _needs_shortener(plan: _Plan, facts: MessageFacts, link: str,
                         exc: ValidationError) -> ValidationError:
        """Too long with Stripe's own (long) link: say what would make texts fit."""
        setup = ("A Full Access user can set up a link shortener in Clinic ▸ Billing notices "
                 "so texts carry a short link; until then, send an email.")
        try:
            render_text(plan.text_template, facts, "")
        except ValidationError:
            return ValidationError(
                f"A text cannot carry Stripe's payment link (about {len(link)} characters) in "
                f"{MAX_SEGMENTS} SMS messages. {setup}", exc.field)
        return ValidationError(f"{exc.message} {setup}", exc.field)

    # ----- the five steps ------------------------------------------------------------------

    def _send(self, actor: Actor, plan: _Plan, custom_message: str) -> NoticeRow:
        self._draft(plan, self._placeholder(plan), custom_message)  # refuse too long, early
        gateway = self.accounts.gateway_for(plan.account_id)
        customer_id = self.cards.ensure_customer(actor, plan.patient_id, plan.account_id,
                                                 gateway)
        notice_id = uuid.uuid4()
        expires_at = (self.db.clock.now() + plan.expiry).replace(microsecond=0)
        metadata = {"notice_id": str(notice_id), "patient_id": str(plan.patient_id),
                    "kind": plan.kind.value}
        if plan.invoice_id:
            metadata["invoice_id"] = str(plan.invoice_id)
        try:
            session = gateway.create_checkout_session(CheckoutRequest(
                customer_id=customer_id, currency=plan.currency, lines=plan.lines,
                custom_amount=plan.custom_amount, expires_at=int(expires_at.timestamp()),
                success_url=self.success_url, metadata=metadata,
                idempotency_key=f"fd-cs-{notice_id.hex}",
                receipt_email=plan.recipient if plan.channel is NoticeChannel.EMAIL else None))
        except GatewayError as exc:
            log.warning("checkout session not created: %s", exc.kind.value)
            raise ExternalServiceError(
                f"Stripe did not make the payment link ({exc.message}). Nothing was sent; "
                "try again.") from None
        short_url, shortening_failed = "", ""
        if plan.channel is NoticeChannel.TEXT and plan.shortener is not None:
            try:
                short_url = self.shortener.shorten(plan.shortener, str(plan.clinic_id),
                                                   session.url)
            except ShortenerError as exc:
                shortening_failed = exc.message
        link = plan.shortener.placeholder_link() if shortening_failed and plan.shortener else (
            short_url or session.url)
        try:
            # Counted again with the link that is actually sent.
            draft = self._draft(plan, link, custom_message, expires_at)
        except ValidationError:
            _expire_quietly(gateway, session)
            raise
        self._record_queued(actor, notice_id, plan, session, draft, expires_at, short_url)
        if shortening_failed:  # nothing is sent with the long link instead
            return self._record_outcome(actor, notice_id, NoticeStatus.FAILED,
                                        shortening_failed)
        try:
            if plan.channel is NoticeChannel.TEXT:
                sent = self.sms.send(plan.recipient, draft.text)
                delivered, outbox = sent.sent, sent.outbox_path
            else:
                mail = self.mailer.deliver(OutgoingEmail(
                    to=plan.recipient, subject=draft.subject, body=draft.text, html=draft.html,
                    from_name=plan.from_name, reply_to=plan.reply_to))
                delivered, outbox = mail.sent, mail.outbox_path
        except ServiceError as exc:
            return self._record_outcome(actor, notice_id, NoticeStatus.FAILED, exc.message)
        if delivered:
            return self._record_outcome(actor, notice_id, NoticeStatus.SENT, "")
        return self._record_outcome(actor, notice_id, NoticeStatus.NOT_SENT,
                                    f"saved to {outbox}" if outbox else "")

    def _record_queued(self, actor: Actor, notice_id: uuid.UUID, plan: _Plan,
                       session: CheckoutSessionInfo, draft: NoticeDraft,
                       expires_at: datetime, short_url: str = "") -> None:
        with self.db.transaction() as s:
            notice = BillingNotice(
                id=notice_id, clinic_id=actor.clinic_id, patient_id=plan.patient_id,
                kind=plan.kind, channel=plan.channel, recipient=plan.recipient,
                status=NoticeStatus.QUEUED, invoice_id=plan.invoice_id,
                payment_account_id=plan.account_id, amount_cents=plan.amount_cents,
                currency=plan.currency, allow_partial=plan.allow_partial,
                subject=draft.subject, message=draft.text,
                stripe_checkout_session_id=session.id, link_url=session.url,
                short_url=short_url,
                expires_at=expires_at, created_by_id=actor.staff_id,
                workstation=actor.workstation)
            s.add(notice)
            s.flush()
            audit.record(
                s, actor, "notice.queued", entity=notice, patient_id=plan.patient_id,
                summary=(f"{plan.kind.label} {plan.channel.label.lower()} for "
                         f"{format_money(plan.amount_cents, plan.currency)}"),
                details={"notice": str(notice_id), "to": _masked(plan.channel, plan.recipient),
                         "checkout_session": session.id, "short_link": short_url})

    def _record_outcome(self, actor: Actor, notice_id: uuid.UUID, status: NoticeStatus,
                        reason: str) -> NoticeRow:
        with self.db.transaction() as s:
            # Locked: the poller on another desk may be marking it paid at this moment.
            notice = s.scalars(select(BillingNotice).where(BillingNotice.id == notice_id)
                               .with_for_update()).one()
            if notice.status is NoticeStatus.QUEUED:  # the poller may have seen it paid
                notice.status = status
                notice.failure_reason = reason[:500] if status is NoticeStatus.FAILED else ""
                if status is not NoticeStatus.FAILED:
                    notice.sent_at = self.db.clock.now()
            s.flush()
            audit.record(
                s, actor, f"notice.{status.value}", entity=notice, patient_id=notice.patient_id,
                summary=f"{notice.kind.label} {notice.channel.label.lower()}: {status.label}",
                details={"notice": str(notice_id), "reason": reason[:200]})
            return self._history(s, notice.patient_id, notice_id)[0]

    def _expire_replaced(self, actor: Actor, notice_id: uuid.UUID) -> None:
        """Resend: the old link must not be payable any more. If it was paid meanwhile, the
        new one is refused (the poller records the payment)."""
        with self.db.reading() as s:
            notice = s.get_one(BillingNotice, notice_id)
            account, session_id = notice.payment_account_id, notice.stripe_checkout_session_id
        gateway = self.accounts.gateway_for(account)
        try:
            session = gateway.expire_checkout_session(session_id)
        except GatewayError:
            try:
                session = gateway.retrieve_checkout_session(session_id)
            except GatewayError as exc:
                raise ExternalServiceError(
                    f"Stripe could not be asked about the earlier link ({exc.message}); "
                    "nothing was sent. Try again.") from None
        if session.status == "complete":
            raise Conflict("The earlier link for this invoice was just paid; press Check now "
                           "to record the payment. No new link was sent.")
        with self.db.transaction() as s:
            notice = s.get_one(BillingNotice, notice_id)
            if notice.status.link_open:
                notice.status = NoticeStatus.EXPIRED
                notice.failure_reason = "replaced by a new link"
                notice.closed_at = self.db.clock.now()
                s.flush()
                audit.record(s, actor, "notice.expired", entity=notice,
                             patient_id=notice.patient_id,
                             summary="Payment link expired: replaced by a new link",
                             details={"notice": str(notice_id)})

    # ----- helpers ------------------------------------------------------------------------

    @staticmethod
    def _patient(s: Session, actor: Actor, patient_id: uuid.UUID) -> tuple[Patient, Clinic]:
        patient = s.get(Patient, patient_id)
        if patient is None or patient.clinic_id != actor.clinic_id:
            raise NotFound("That patient no longer exists.")
        return patient, s.get_one(Clinic, actor.clinic_id)

    @staticmethod
    def _primary_account(s: Session, actor: Actor) -> uuid.UUID | None:
        return account_served_at(s, actor.clinic_id, practitioner_id=None, location_id=None)

    @staticmethod
    def _text_recipient(patient: Patient, clinic: Clinic) -> tuple[str, str]:
        """(E.164 mobile, why a text cannot be sent)."""
        name = patient.preferred_name or patient.legal_first_name
        try:
            mobile = e164_phone(patient.mobile_phone, clinic.country)
        except ValidationError as exc:
            return "", exc.message
        if not patient.consent_texts:
            return mobile, (f"{name} has not agreed to receive texts. Record their consent on "
                            "the Contact tab, or send an email.")
        return mobile, ""

    def _recipient(self, patient: Patient, clinic: Clinic, channel: NoticeChannel) -> str:
        if channel is NoticeChannel.TEXT:
            mobile, blocked = self._text_recipient(patient, clinic)
            if blocked:
                raise ValidationError(blocked, "phone")
            return mobile
        if not patient.email.strip():
            raise ValidationError("There is no email address on file; add one on the Contact "
                                  "tab.", "email")
        return valid_email(patient.email)

    @staticmethod
    def _invoice_email(patient: Patient) -> str:
        """The patient's own address, else their household contact's, else their bill-to
        contact's."""
        for address in (patient.email, patient.household_contact_email, patient.bill_to_email):
            if address.strip():
                return valid_email(address)
        raise ValidationError(
            "No email address to send the link to. Add one in the patient's details, their "
            "household information, or their bill-to contact, then send again.", "email")

    def _history(self, s: Session, patient_id: uuid.UUID,
                 only: uuid.UUID | None = None) -> list[NoticeRow]:
        query = (select(BillingNotice, Staff.first_name, Staff.last_name, Invoice.workstation,
                        Invoice.seq)
                 .outerjoin(Staff, Staff.id == BillingNotice.created_by_id)
                 .outerjoin(Invoice, Invoice.id == BillingNotice.invoice_id)
                 .where(BillingNotice.patient_id == patient_id)
                 .order_by(BillingNotice.created_at.desc(), BillingNotice.id))
        if only is not None:
            query = query.where(BillingNotice.id == only)
        rows = []
        for n, first, last, ws, seq in s.execute(query):
            rows.append(NoticeRow(
                id=n.id, kind=n.kind, channel=n.channel, recipient=n.recipient,
                created_at=n.created_at, sent_by=f"{first or ''} {last or ''}".strip(),
                status=n.status, failure_reason=n.failure_reason,
                amount_cents=n.amount_cents, currency=n.currency, expires_at=n.expires_at,
                paid_at=n.paid_at, message=n.message,
                invoice_number=f"{ws}-{seq:05d}" if ws else ""))
        return rows


def open_notice_count(s: Session, clinic_id: uuid.UUID) -> int:
    return int(s.scalar(select(func.count()).select_from(BillingNotice).where(
        BillingNotice.clinic_id == clinic_id,
        BillingNotice.status.in_([st for st in NoticeStatus if st.link_open]))) or 0)


def _owing_invoices(s: Session, patient_id: uuid.UUID) -> list[tuple[datetime, str, int]]:
    """(issued at, number, owing) of each open invoice that owes something, oldest first."""
    found = []
    for inv in s.scalars(select(Invoice).where(
            Invoice.patient_id == patient_id, Invoice.status == InvoiceStatus.OPEN)
            .order_by(Invoice.issued_at, Invoice.seq)):
        owing = inv.total_cents - invoice_applied(s, inv.id)
        if owing > 0:
            found.append((inv.issued_at, inv.number, owing))
    return found


def _day(moment: datetime, time_zone: str) -> str:
    from desk_app.services.clock import to_clinic_time

    local = to_clinic_time(moment, time_zone)
    return f"{local.strftime('%b')} {local.day}, {local.year}"


def _settings_row(s: Session, clinic_id: uuid.UUID, *,
                  create: bool = False) -> NoticeSettings | None:
    row = s.scalar(select(NoticeSettings).where(NoticeSettings.clinic_id == clinic_id))
    if row is None and create:
        row = NoticeSettings(clinic_id=clinic_id)
        s.add(row)
        s.flush()
    return row


def _settings_info(row: NoticeSettings | None) -> NoticeSettingsInfo:
    if row is None:
        return NoticeSettingsInfo(False, MAX_EXPIRY_MINUTES, "", "", "", 0)
    return NoticeSettingsInfo(row.allow_partial_payment, row.link_expiry_minutes,
                              row.text_template, row.email_text_template,
                              row.email_html_template, row.version,
                              row.shortener_base_url, row.shortener_domain)


def _masked(channel: NoticeChannel, recipient: str) -> str:
    if channel is NoticeChannel.EMAIL:
        return mask_address(recipient)
    return f"***{recipient[-4:]}"


def _expire_quietly(gateway: PaymentGateway, session: CheckoutSessionInfo) -> None:
    try:
        gateway.expire_checkout_session(session.id)
    except GatewayError:
        log.warning("could not expire checkout session %s", session.id)


def staff_may_send_links(actor: Actor) -> bool:
    return has_permission(actor, Permission.SEND_PAYMENT_LINKS)
