"""Learning that a payment link was paid (or expired), and recording it exactly once.

The background poller (and the desk's "Check now") asks Stripe about every open link's
Checkout Session:

- ``complete`` and ``paid``: the money arrived. ONE transaction records the payment (method
  card, collected by the patient via link; unique on its PaymentIntent and charge ids),
  allocates it (a balance link: open invoices oldest first; a one-time link: its invoice;
  a top-up: nothing, it is credit), saves the card on the patient's file unless it came from a
  wallet (Apple Pay, Google Pay), marks the notice paid, notifies the invoice's rendering
  provider (if they have the Billing permission) and every admin, marks our PDF receipt due
  when the patient has an email address and agreed to emails, and audits it. The receipt is
  then emailed by this desk (``link_receipts``: claimed once, even with several desks).
- ``expired`` (or past its ``expires_at`` by our clock: then Stripe is told to expire it): the
  notice is marked expired.

Two workstations polling the same paid session record one payment: the notice row is locked
(FOR UPDATE on PostgreSQL, the database-file lock on SQLite) and a payment with the same Stripe
ids cannot be inserted twice (a clash is retried, and the retry finds it recorded).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, InvoiceLine, Payment
from desk_app.models.billing_notices import (
    BillingNotice,
    NoticeKind,
    NoticeStatus,
    StaffNotification,
)
from desk_app.models.cards import CardOnFile
from desk_app.models.enums import CollectedBy, PaymentMethod, Role
from desk_app.models.money import format_money
from desk_app.models.patient import Patient, display_name_of
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_protocol import db_lock, record_once
from desk_app.services.cards import brand_label
from desk_app.services.charge_targets import ChargeAmount, plan_charge
from desk_app.services.db import Database
from desk_app.services.errors import ServiceError
from desk_app.services.link_receipts import LinkReceiptSender, mark_receipt_due
from desk_app.services.mail import Mailer
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.permissions import Permission, permissions_of
from desk_app.services.stripe_gateway import (
    CardDetails,
    CheckoutSessionInfo,
    GatewayError,
    PaymentIntentInfo,
)

log = logging.getLogger(__name__)

#: Where the patient lands after paying, until the clinic sets its own page in config.toml.
DEFAULT_SUCCESS_URL = "https://checkout.stripe.com/"

NOTE = "Collected by patient via link"


@dataclass
class LinkCheckReport:
    checked: int = 0
    paid: list[uuid.UUID] = field(default_factory=list)
    expired: list[uuid.UUID] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Receipt emails that could not go out (the payment itself is recorded).
    receipt_problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        parts = [f"{self.checked} open link{'s' if self.checked != 1 else ''} checked"]
        if self.paid:
            parts.append(f"{len(self.paid)} paid")
        if self.expired:
            parts.append(f"{len(self.expired)} expired")
        if self.problems:
            parts.append(f"{len(self.problems)} could not be checked")
        if self.receipt_problems:
            parts.append(f"{len(self.receipt_problems)} receipt email"
                         f"{'s' if len(self.receipt_problems) != 1 else ''} not sent")
        return ", ".join(parts) + "."


class LinkPaymentService:
    def __init__(self, db: Database, accounts: PaymentAccountService,
                 mailer: Mailer | None = None) -> None:
        self.db = db
        self.accounts = accounts
        self._lock = db_lock(db)
        self.receipts = LinkReceiptSender(db, mailer or Mailer(clock=db.clock), self._lock)

    def check_open_links(self, actor: Actor | None = None,
                         patient_id: uuid.UUID | None = None) -> LinkCheckReport:
        """Ask Stripe about every open link (of one patient if given). Network: off the UI
        thread. Anyone signed in may run it: it records what the patient did."""
        report = LinkCheckReport()
        with self.db.reading() as s:
            query = select(BillingNotice.id, BillingNotice.payment_account_id,
                           BillingNotice.stripe_checkout_session_id, BillingNotice.expires_at
                           ).where(BillingNotice.status.in_(
                               [st for st in NoticeStatus if st.link_open]))
            if actor is not None:
                query = query.where(BillingNotice.clinic_id == actor.clinic_id)
            if patient_id is not None:
                query = query.where(BillingNotice.patient_id == patient_id)
            notices = list(s.execute(query.order_by(BillingNotice.created_at)))
        for notice_id, account_id, session_id, expires_at in notices:
            report.checked += 1
            try:
                gateway = self.accounts.gateway_for(account_id)
                session = gateway.retrieve_checkout_session(session_id)
                if session.status == "open" and self.db.clock.now() >= expires_at:
                    try:
                        session = gateway.expire_checkout_session(session_id)
                    except GatewayError:  # paid or expired a moment ago: read it again
                        session = gateway.retrieve_checkout_session(session_id)
                if session.status == "complete" and session.payment_status == "paid":
                    self._record_paid(actor, notice_id, session)
                    report.paid.append(notice_id)
                elif session.status == "expired" and self._record_expired(actor, notice_id):
                    report.expired.append(notice_id)
            except GatewayError as exc:
                log.warning("payment link %s not checked: %s", notice_id, exc.kind.value)
                report.problems.append(f"Stripe could not be asked ({exc.message}).")
            except ServiceError as exc:
                report.problems.append(exc.message)
        # Receipts of the links just paid, and any a desk left due before it could send them.
        due = list(report.paid)
        if actor is not None:
            due += [n for n in self.receipts.due(actor.clinic_id, actor.workstation)
                    if n not in due]
        report.receipt_problems.extend(self.receipts.send_due(actor, due))
        return report

    # ----- paid ------------------------------------------------------------------------------

    def _record_paid(self, actor: Actor | None, notice_id: uuid.UUID,
                     session: CheckoutSessionInfo) -> None:
        with self.db.reading() as s:
            notice = s.get_one(BillingNotice, notice_id)
            if notice.status is NoticeStatus.PAID:
                return
            account_id = notice.payment_account_id
        gateway = self.accounts.gateway_for(account_id)
        if not session.payment_intent_id:
            raise ServiceError("Stripe says the link was paid but names no payment.")
        intent = gateway.retrieve_payment_intent(session.payment_intent_id)
        card = (gateway.retrieve_payment_method(intent.payment_method_id)
                if intent.payment_method_id else None)
        record_once(
            self.db, self._lock,
            lambda s: self._record_paid_in(s, actor, notice_id, intent, card),
            lambda s: None,
        )

    def _record_paid_in(self, s: Session, actor: Actor | None, notice_id: uuid.UUID,
                        intent: PaymentIntentInfo, card: CardDetails | None) -> None:
        notice = s.scalar(select(BillingNotice).where(BillingNotice.id == notice_id)
                          .with_for_update())
        if notice is None or notice.status is NoticeStatus.PAID:
            return
        now = self.db.clock.now()
        payment = s.scalar(select(Payment).where(
            Payment.stripe_payment_intent_id == intent.id))
        if payment is None and intent.charge_id:
            payment = s.scalar(select(Payment).where(Payment.stripe_charge_id == intent.charge_id))
        applied: dict[uuid.UUID, int] = {}
        card_saved = False
        if payment is None:
            wallet = f" ({card.wallet.replace('_', ' ').title()})" if card and card.wallet else ""
            payment = Payment(
                clinic_id=notice.clinic_id, patient_id=notice.patient_id, location_id=None,
                method=PaymentMethod.CARD, amount_cents=intent.amount, received_at=now,
                collected_by=CollectedBy.PATIENT, collected_by_staff_id=None,
                payment_account_id=notice.payment_account_id,
                stripe_payment_intent_id=intent.id, stripe_charge_id=intent.charge_id,
                reference=(f"{brand_label(card.brand)} •••• {card.last4}{wallet}" if card
                           else "Card")[:120],
                note=NOTE,
                workstation=actor.workstation if actor else notice.workstation)
            s.add(payment)
            s.flush()
            applied = self._allocate(s, notice, payment)
            card_saved = self._save_card(s, notice, card, now)
            mark_receipt_due(s, notice)
        notice.status = NoticeStatus.PAID
        notice.payment_id = payment.id
        notice.paid_at = now
        notice.closed_at = now
        notice.failure_reason = ""
        s.flush()
        self._notify(s, notice, payment, applied)
        money = format_money(payment.amount_cents, notice.currency)
        audit.record(
            s, actor, "notice.paid", entity=payment, patient_id=notice.patient_id,
            workstation=notice.workstation,
            summary=f"{notice.kind.label} paid by the patient: {money}",
            details={"notice": str(notice.id), "payment": str(payment.id),
                     "applied": {str(k): v for k, v in applied.items()},
                     "card_saved": card_saved,
                     "recorded_by": actor.description if actor else "link check"})

    @staticmethod
    def _allocate(s: Session, notice: BillingNotice, payment: Payment) -> dict[uuid.UUID, int]:
        if notice.kind is NoticeKind.TOP_UP:
            return {}
        invoices = (notice.invoice_id,) if notice.kind is NoticeKind.INVOICE else None
        try:
            _amount, parts = plan_charge(
                s, notice.patient_id,
                ChargeAmount(payment.amount_cents, invoices),  # type: ignore[arg-type]
                notice.currency, lock=True)
        except ServiceError:
            parts = []  # the invoice was deleted meanwhile: it all stays as credit
        applied: dict[uuid.UUID, int] = {}
        for invoice_id, cents in parts:
            s.add(Allocation(payment_id=payment.id, invoice_id=invoice_id,
                             patient_id=notice.patient_id, amount_cents=cents,
                             created_by_id=None, workstation=payment.workstation))
            applied[invoice_id] = cents
        s.flush()
        return applied

    @staticmethod
    def _save_card(s: Session, notice: BillingNotice, card: CardDetails | None,
                   now: object) -> bool:
        """A card the patient typed is kept on file; a wallet payment is not."""
        if card is None or card.wallet or not card.last4:
            return False
        if s.scalar(select(CardOnFile.id).where(
                CardOnFile.stripe_payment_method_id == card.payment_method_id)) is not None:
            return False
        s.add(CardOnFile(
            patient_id=notice.patient_id, payment_account_id=notice.payment_account_id,
            stripe_payment_method_id=card.payment_method_id, brand=card.brand[:32],
            last4=card.last4[-4:], exp_month=card.exp_month, exp_year=card.exp_year,
            added_by=CollectedBy.PATIENT, added_by_staff_id=None, added_at=now))
        s.flush()
        return True

    @staticmethod
    def _notify(s: Session, notice: BillingNotice, payment: Payment,
                applied: dict[uuid.UUID, int]) -> None:
        """The rendering provider of each invoice paid (only with the Billing permission) and
        every admin (Full Access, Administrative/All Billing)."""
        staff = {st.id: st for st in s.scalars(select(Staff).where(
            Staff.clinic_id == notice.clinic_id, Staff.active.is_(True)))}
        who = {sid for sid, st in staff.items()
               if st.role in (Role.FULL_ACCESS, Role.ADMIN_BILLING)}
        invoice_ids = list(applied) or ([notice.invoice_id] if notice.invoice_id else [])
        if invoice_ids:
            for provider in s.scalars(select(InvoiceLine.practitioner_id).where(
                    InvoiceLine.invoice_id.in_(invoice_ids),
                    InvoiceLine.practitioner_id.is_not(None)).distinct()):
                person = staff.get(provider) if provider else None
                if person is not None and Permission.SEND_PAYMENT_LINKS in permissions_of(
                        person.role, person.billing_permission):
                    who.add(person.id)
        patient = s.get_one(Patient, notice.patient_id)
        name = display_name_of(patient.legal_first_name, patient.legal_last_name,
                               patient.preferred_name)
        money = format_money(payment.amount_cents, notice.currency)
        for staff_id in sorted(who):
            s.add(StaffNotification(
                clinic_id=notice.clinic_id, staff_id=staff_id, patient_id=notice.patient_id,
                notice_id=notice.id, title=f"{name} paid {money} online",
                body=f"{notice.kind.label} paid by the patient ({payment.reference})."))
        s.flush()

    # ----- expired ---------------------------------------------------------------------------

    def _record_expired(self, actor: Actor | None, notice_id: uuid.UUID) -> bool:
        with self._lock, self.db.transaction() as s:
            notice = s.scalar(select(BillingNotice).where(BillingNotice.id == notice_id)
                              .with_for_update())
            if notice is None or not notice.status.link_open:
                return False
            notice.status = NoticeStatus.EXPIRED
            notice.closed_at = self.db.clock.now()
            s.flush()
            audit.record(s, actor, "notice.expired", entity=notice,
                         patient_id=notice.patient_id, workstation=notice.workstation,
                         summary=f"{notice.kind.label} link expired unpaid",
                         details={"notice": str(notice.id)})
            return True
