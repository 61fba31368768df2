"""Charging cards on file and topping up account credit, exactly once; refunds (card_refunds).

The protocol (../shared/DESIGN.md "Exactly-once charges"; docs/STRIPE.md has the diagram):

1. In its own transaction, with the patient and the invoices locked (FOR UPDATE on PostgreSQL;
   one process-wide lock per database on SQLite), an attempt row is committed holding an
   idempotency key and what it means to pay. Refused if another attempt of the patient is
   pending or unknown: nothing can be charged twice while a charge is unsettled.
2. Stripe is called with that key as its Idempotency-Key and ``attempt_id`` in the metadata.
3. On success, ONE local transaction records the payment (unique on its Stripe ids), its
   allocations and the attempt's status. On a clear failure the attempt is marked failed and
   nothing is recorded as paid. On an unknown outcome (timeout, reset, crash) the attempt stays
   ``unknown`` (or ``pending`` after a crash) and is reconciled with Stripe: retrieve the
   PaymentIntent by id if we have it, else list the customer's charges and match
   ``attempt_id``. Only when Stripe has no trace of it, and the attempt is older than
   ``settle_after`` (so a slow request cannot still land), is it concluded "not charged".
4. ``reconcile_unknown`` settles every unsettled attempt: run it at startup; it also runs
   for a patient before any new charge or refund of theirs.

No transaction is ever held open across a Stripe call. Every method here may make network
calls: run them off the UI thread (they block at most about twice the gateway timeout).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, Invoice, Payment
from desk_app.models.card_attempts import ChargeAttempt, ChargeAttemptInvoice, RefundAttempt
from desk_app.models.cards import CardOnFile, PaymentAccount, StripeCustomer
from desk_app.models.clinic import Clinic
from desk_app.models.enums import (
    AttemptPurpose,
    AttemptStatus,
    CollectedBy,
    InvoiceStatus,
    PaymentMethod,
)
from desk_app.models.money import format_money
from desk_app.models.patient import Patient
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_payment_rows import CardPaymentRow, card_payment_rows
from desk_app.services.card_protocol import (
    DEFAULT_SETTLE_AFTER,
    UNSETTLED,
    ReconcileReport,
    UnsettledAttempt,
    db_lock,
)
from desk_app.services.card_refunds import CardRefunds, RefundDestination, RefundOutcome
from desk_app.services.cards import brand_label, card_expired
from desk_app.services.charge_targets import (
    ChargeAmount,
    ChargePlan,
    ChargeTarget,
    ChosenInvoices,
    WholeBalance,
    plan_charge,
)
from desk_app.services.clock import clinic_today, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ServiceError, ValidationError
from desk_app.services.ledger import invoice_applied
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.permissions import Permission, require
from desk_app.services.stripe_gateway import (
    ChargeInfo,
    GatewayError,
    GatewayErrorKind,
    PaymentGateway,
    PaymentIntentInfo,
)

__all__ = [
    "CardPaymentService",
    "ChargeAmount",
    "ChargeOutcome",
    "ChargePlan",
    "ChargeTarget",
    "ChosenInvoices",
    "ReconcileReport",
    "RefundDestination",
    "RefundOutcome",
    "UnsettledAttempt",
    "WholeBalance",
]

log = logging.getLogger(__name__)


# ----- outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    attempt_id: uuid.UUID
    status: AttemptStatus
    amount_cents: int
    currency: str
    message: str  # for the person at the desk: what happened and what to do
    failure_code: str = ""
    payment_id: uuid.UUID | None = None
    applied: dict[uuid.UUID, int] = field(default_factory=dict)
    to_credit_cents: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status is AttemptStatus.SUCCEEDED

    @property
    def needs_authentication(self) -> bool:
        """The bank wants the patient to authenticate: offer to send a pay-balance link."""
        return self.status is AttemptStatus.REQUIRES_ACTION

    @property
    def unsettled(self) -> bool:
        """Not known yet whether the card was charged: nothing may be charged again yet."""
        return self.status in UNSETTLED


# ----- messages ----------------------------------------------------------------------------

_DECLINE_MESSAGES = {
    "insufficient_funds": "The card was declined for insufficient funds.",
    "expired_card": "The card has expired.",
    "incorrect_cvc": "The card was declined (security code check failed).",
    "lost_card": "The card was declined.",
    "stolen_card": "The card was declined.",
    "processing_error": "The card network had a processing error.",
}
NOT_CHARGED = "Nothing was charged and nothing is recorded as paid."
AUTH_MESSAGE = (
    "The patient's bank wants them to authenticate this payment (3-D Secure), which cannot "
    "be done at the desk. " + NOT_CHARGED + " Send the patient a pay-balance link so they can "
    "pay and authenticate on their phone."
)
UNKNOWN_MESSAGE = (
    "Stripe did not answer, so it is not known yet whether the card was charged. Nothing is "
    "recorded as paid. The charge is being checked with Stripe; do not charge again or take "
    "another payment for it until it is settled (check again in a minute)."
)
IN_PROGRESS_MESSAGE = (
    "This card charge is in progress with Stripe. Wait for it to finish; do not charge again."
)
NOT_SENT_MESSAGE = (
    "Stripe could not be reached, so the card was NOT charged. Check the internet connection "
    "and try again."
)
NOT_FOUND_MESSAGE = (
    "Checked with Stripe: this charge never reached it, so the card was NOT charged. You can "
    "try again."
)


def _decline_message(code: str, decline_code: str = "") -> str:
    key = decline_code or code
    text = _DECLINE_MESSAGES.get(key) or _DECLINE_MESSAGES.get(code) or "The card was declined."
    if key == "expired_card":
        advice = "Add the patient's new card, or take another payment method."
    elif key == "processing_error":
        advice = "Try again in a moment."
    else:
        advice = "Ask the patient for another card or payment method."
    return f"{text} {NOT_CHARGED} {advice}"


# ----- the service -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AttemptRef:
    """What a Stripe call needs about a committed attempt (read outside any transaction)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    account_id: uuid.UUID
    amount_cents: int
    currency: str
    idempotency_key: str
    customer_id: str
    payment_method_id: str
    purpose: AttemptPurpose


class CardPaymentService:
    def __init__(
        self,
        db: Database,
        accounts: PaymentAccountService,
        *,
        settle_after: timedelta = DEFAULT_SETTLE_AFTER,
    ) -> None:
        self.db = db
        self.accounts = accounts
        #: Stripe's silence about an attempt older than this means "nothing happened".
        self.settle_after = settle_after
        #: Test hook: called after Stripe reports success and before the local commit.
        self.after_gateway_success: Callable[[uuid.UUID], None] | None = None
        self._lock = db_lock(db)
        self.refunds = CardRefunds(db, accounts, self._lock, lambda: self.settle_after)

    # ----- reading ---------------------------------------------------------------------------

    def plan(self, actor: Actor, patient_id: uuid.UUID, target: ChargeTarget) -> ChargePlan:
        """What charging ``target`` would pay, for the confirmation step."""
        require(actor, Permission.TAKE_PAYMENT)
        with self.db.reading() as s:
            currency = s.get_one(Clinic, actor.clinic_id).currency
            amount, parts = plan_charge(s, patient_id, target, currency, lock=False)
            rows = tuple((invoice_id, s.get_one(Invoice, invoice_id).number, cents)
                         for invoice_id, cents in parts)
            return ChargePlan(amount, currency, rows, amount - sum(c for _, c in parts))

    def unsettled_for_patient(self, actor: Actor, patient_id: uuid.UUID) -> list[UnsettledAttempt]:
        """Charges and refunds of the patient that are still being checked with Stripe."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            staff = {sid: f"{fn} {ln}".strip() for sid, fn, ln in s.execute(
                select(Staff.id, Staff.first_name, Staff.last_name))}
            rows: list[UnsettledAttempt] = []
            for a in s.scalars(select(ChargeAttempt).where(
                    ChargeAttempt.patient_id == patient_id,
                    ChargeAttempt.status.in_(UNSETTLED))):
                rows.append(UnsettledAttempt(a.id, "charge", a.status, a.amount_cents,
                                             a.created_at, staff.get(a.created_by_id, "")
                                             if a.created_by_id else "", a.workstation))
            for r in s.scalars(select(RefundAttempt).where(
                    RefundAttempt.patient_id == patient_id,
                    RefundAttempt.status.in_(UNSETTLED))):
                rows.append(UnsettledAttempt(r.id, "refund", r.status, r.amount_cents,
                                             r.created_at, staff.get(r.created_by_id, "")
                                             if r.created_by_id else "", r.workstation))
            return sorted(rows, key=lambda u: u.created_at)

    def card_payments_for_patient(self, actor: Actor, patient_id: uuid.UUID
                                  ) -> list[CardPaymentRow]:
        """The patient's Stripe card payments, newest first, with what is left to refund and
        the invoices a refund would unapply (``card_payment_rows.refund_preview``)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            return card_payment_rows(s, patient_id)

    def charge_outcome(self, actor: Actor, attempt_id: uuid.UUID) -> ChargeOutcome:
        """Where a charge attempt stands now (from the database; no Stripe call)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            attempt = s.get(ChargeAttempt, attempt_id)
            if attempt is None or attempt.clinic_id != actor.clinic_id:
                raise NotFound("That card charge does not exist.")
            return self._outcome(s, attempt)

    # ----- charging --------------------------------------------------------------------------

    def charge_card(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        card_id: uuid.UUID,
        target: ChargeTarget,
        *,
        location_id: uuid.UUID | None = None,
        request_id: uuid.UUID | None = None,
    ) -> ChargeOutcome:
        """Charge a card on file for the whole balance, chosen invoices or an amount.

        ``request_id``: made once per confirmation (when the dialog opens); calling again with
        the same id (a double-click, a retry of the same request) returns that request's
        outcome and never charges twice. Refusals before anything is sent raise ServiceError;
        everything after is an outcome (succeeded, failed, requires_action, unknown).
        """
        require(actor, Permission.TAKE_PAYMENT)
        return self._charge(actor, patient_id, card_id, target, AttemptPurpose.CHARGE,
                            location_id, request_id)

    def top_up_credit(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        amount_cents: int,
        card_id: uuid.UUID,
        *,
        location_id: uuid.UUID | None = None,
        request_id: uuid.UUID | None = None,
    ) -> ChargeOutcome:
        """Add account credit paid by a card on file: a payment applied to no invoice, into
        the PRIMARY payment account, collected by the signed-in staff member."""
        require(actor, Permission.TAKE_PAYMENT)
        return self._charge(actor, patient_id, card_id, ChargeAmount(amount_cents, ()),
                            AttemptPurpose.TOP_UP, location_id, request_id)

    def _charge(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        card_id: uuid.UUID,
        target: ChargeTarget,
        purpose: AttemptPurpose,
        location_id: uuid.UUID | None,
        request_id: uuid.UUID | None,
    ) -> ChargeOutcome:
        key = f"fd-ch-{(request_id or uuid.uuid4()).hex}"
        existing = self._attempt_id_by_key(key)
        if existing is not None:
            return self._replay(actor, existing, patient_id)
        with self.db.reading() as s:
            card = s.get(CardOnFile, card_id)
            if card is None or card.patient_id != patient_id:
                raise NotFound("That card is not on this patient's file.")
            account_id = card.payment_account_id
        gateway = self.accounts.gateway_for(account_id)  # refuses early if no key here
        # Settle what is unsettled for this patient first: maybe it was charged after all.
        self._reconcile_patient(actor, patient_id)
        ref = self._create_attempt(actor, patient_id, card_id, target, purpose, location_id, key)
        if isinstance(ref, uuid.UUID):  # the same request was created meanwhile
            return self._replay(actor, ref, patient_id)
        return self._send(actor, ref, gateway)

    def _replay(self, actor: Actor, attempt_id: uuid.UUID, patient_id: uuid.UUID) -> ChargeOutcome:
        with self.db.reading() as s:
            attempt = s.get_one(ChargeAttempt, attempt_id)
            if attempt.patient_id != patient_id:
                raise ValidationError("This request was already used for another patient.")
            status = attempt.status
        if status in UNSETTLED:
            return self._reconcile_charge(actor, attempt_id)
        with self.db.reading() as s:
            return self._outcome(s, s.get_one(ChargeAttempt, attempt_id))

    def _attempt_id_by_key(self, key: str) -> uuid.UUID | None:
        with self.db.reading() as s:
            return s.scalar(select(ChargeAttempt.id).where(ChargeAttempt.idempotency_key == key))

    def _create_attempt(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        card_id: uuid.UUID,
        target: ChargeTarget,
        purpose: AttemptPurpose,
        location_id: uuid.UUID | None,
        key: str,
    ) -> _AttemptRef | uuid.UUID:
        """Step 1: commit the attempt (and what it pays) before anything is sent."""
        with self._lock:
            try:
                with self.db.transaction() as s:
                    return self._create_attempt_in(s, actor, patient_id, card_id, target,
                                                   purpose, location_id, key)
            except IntegrityError:
                again = self._attempt_id_by_key(key)
                if again is None:
                    raise
                return again

    def _create_attempt_in(
        self,
        s: Session,
        actor: Actor,
        patient_id: uuid.UUID,
        card_id: uuid.UUID,
        target: ChargeTarget,
        purpose: AttemptPurpose,
        location_id: uuid.UUID | None,
        key: str,
    ) -> _AttemptRef | uuid.UUID:
        # Lock order everywhere: patient, then invoices by id.
        patient = s.scalar(select(Patient).where(Patient.id == patient_id).with_for_update())
        if patient is None or patient.clinic_id != actor.clinic_id:
            raise NotFound("That patient no longer exists.")
        same = s.scalar(select(ChargeAttempt.id).where(ChargeAttempt.idempotency_key == key))
        if same is not None:
            return same
        clinic = s.get_one(Clinic, actor.clinic_id)
        self._refuse_if_unsettled(s, patient_id, clinic)
        card = s.get(CardOnFile, card_id)
        if card is None or card.patient_id != patient_id:
            raise NotFound("That card is not on this patient's file.")
        if card.removed_at is not None:
            raise Conflict("That card was removed from the patient's file.")
        account = s.get_one(PaymentAccount, card.payment_account_id)
        if not account.active:
            raise Conflict(f"The card is saved in the payment account {account.label}, which "
                           "was removed. Add the card again.")
        today = clinic_today(self.db.clock, clinic.time_zone)
        if card_expired(card.exp_month, card.exp_year, today):
            raise ValidationError(
                f"This card expired at the end of {card.exp_month:02d}/{card.exp_year}. Add "
                "the patient's new card, or take another payment method.")
        if purpose is AttemptPurpose.TOP_UP and not account.is_primary:
            raise ValidationError(
                f"Account credit goes to the primary payment account, and this card is "
                f"saved in {account.label}. Add the card to the primary account (or use "
                "another card) to top up credit.")
        customer = s.scalar(select(StripeCustomer.stripe_customer_id).where(
            StripeCustomer.patient_id == patient_id,
            StripeCustomer.payment_account_id == account.id))
        if customer is None:
            raise Conflict("This card's Stripe customer is missing; add the card again.")
        amount, parts = plan_charge(s, patient_id, target, clinic.currency, lock=True)
        if location_id is None and parts:
            location_id = s.get_one(Invoice, parts[0][0]).location_id
        attempt = ChargeAttempt(
            clinic_id=actor.clinic_id,
            patient_id=patient_id,
            payment_account_id=account.id,
            card_id=card.id,
            location_id=location_id,
            amount_cents=amount,
            currency=clinic.currency,
            purpose=purpose,
            idempotency_key=key,
            status=AttemptStatus.PENDING,
            collected_by=CollectedBy.STAFF,
            created_by_id=actor.staff_id,
            workstation=actor.workstation,
        )
        s.add(attempt)
        s.flush()
        for position, (invoice_id, cents) in enumerate(parts):
            s.add(ChargeAttemptInvoice(attempt_id=attempt.id, invoice_id=invoice_id,
                                       position=position, amount_cents=cents))
        audit.record(
            s, actor, "card.charge_started", entity=attempt, patient_id=patient_id,
            summary=f"Card charge of {format_money(amount, clinic.currency)} sent to Stripe",
            details={"amount": amount, "purpose": purpose.value, "card": str(card.id),
                     "invoices": {str(i): c for i, c in parts}},
        )
        return _AttemptRef(attempt.id, patient_id, account.id, amount, clinic.currency, key,
                           customer, card.stripe_payment_method_id, purpose)

    def _refuse_if_unsettled(self, s: Session, patient_id: uuid.UUID, clinic: Clinic) -> None:
        busy = s.scalar(
            select(ChargeAttempt).where(
                ChargeAttempt.patient_id == patient_id, ChargeAttempt.status.in_(UNSETTLED)
            ).order_by(ChargeAttempt.created_at).limit(1)
        )
        if busy is None:
            return
        when = to_clinic_time(busy.created_at, clinic.time_zone)
        covered = list(s.scalars(
            select(Invoice).join(ChargeAttemptInvoice,
                                 ChargeAttemptInvoice.invoice_id == Invoice.id)
            .where(ChargeAttemptInvoice.attempt_id == busy.id)))
        what = (" for invoice " + ", ".join(i.number for i in covered)) if covered else ""
        raise Conflict(
            f"A card charge of {format_money(busy.amount_cents, busy.currency)}{what} "
            f"started at {when:%H:%M} at {busy.workstation} is not settled yet: it is being "
            "checked with Stripe. Nothing more can be charged to this patient's cards until "
            "it is; try again in a minute."
        )

    def _send(self, actor: Actor | None, ref: _AttemptRef,
              gateway: PaymentGateway) -> ChargeOutcome:
        """Step 2 and 3: one call to Stripe, then record what it said."""
        try:
            intent = gateway.create_payment_intent(
                amount=ref.amount_cents,
                currency=ref.currency,
                customer_id=ref.customer_id,
                payment_method_id=ref.payment_method_id,
                idempotency_key=ref.idempotency_key,
                metadata={"attempt_id": str(ref.id), "patient_id": str(ref.patient_id),
                          "purpose": ref.purpose.value},
            )
        except GatewayError as exc:
            return self._after_error(actor, ref.id, exc, gateway)
        if intent.status == "succeeded" and self.after_gateway_success is not None:
            self.after_gateway_success(ref.id)
        return self._after_intent(actor, ref.id, intent, gateway)

    def _after_intent(self, actor: Actor | None, attempt_id: uuid.UUID,
                      intent: PaymentIntentInfo, gateway: PaymentGateway) -> ChargeOutcome:
        if intent.status == "succeeded":
            return self._record_success(actor, attempt_id, intent.id, intent.charge_id)
        if intent.status in ("requires_action", "requires_confirmation"):
            # localstripe's off-session 3-D Secure answer (real Stripe raises a CardError).
            self._cancel_quietly(gateway, intent.id)
            return self._settle(actor, attempt_id, AttemptStatus.REQUIRES_ACTION,
                                "authentication_required", AUTH_MESSAGE, intent_id=intent.id)
        if intent.status in ("requires_payment_method", "canceled"):
            code = intent.decline_code or intent.error_code or "card_declined"
            if "authentication" in code:
                return self._settle(actor, attempt_id, AttemptStatus.REQUIRES_ACTION,
                                    "authentication_required", AUTH_MESSAGE, intent_id=intent.id)
            return self._settle(actor, attempt_id, AttemptStatus.FAILED, code,
                                _decline_message(intent.error_code, intent.decline_code),
                                intent_id=intent.id)
        # processing (or anything new): Stripe has not decided; check again later.
        return self._settle(actor, attempt_id, AttemptStatus.UNKNOWN, "processing",
                            UNKNOWN_MESSAGE, intent_id=intent.id)

    def _after_error(self, actor: Actor | None, attempt_id: uuid.UUID, exc: GatewayError,
                     gateway: PaymentGateway) -> ChargeOutcome:
        kind = exc.kind
        if kind is GatewayErrorKind.AUTHENTICATION_REQUIRED:
            if exc.payment_intent_id:
                self._cancel_quietly(gateway, exc.payment_intent_id)
            return self._settle(actor, attempt_id, AttemptStatus.REQUIRES_ACTION,
                                "authentication_required", AUTH_MESSAGE,
                                intent_id=exc.payment_intent_id)
        if kind is GatewayErrorKind.DECLINED:
            code = exc.decline_code or exc.code or "card_declined"
            return self._settle(actor, attempt_id, AttemptStatus.FAILED, code,
                                _decline_message(exc.code, exc.decline_code),
                                intent_id=exc.payment_intent_id)
        if kind in (GatewayErrorKind.NOT_SENT, GatewayErrorKind.RATE_LIMITED):
            # The request never left (or Stripe turned it away unprocessed): nothing charged.
            return self._settle(actor, attempt_id, AttemptStatus.FAILED, kind.value,
                                NOT_SENT_MESSAGE)
        if kind is GatewayErrorKind.BAD_KEY:
            return self._settle(
                actor, attempt_id, AttemptStatus.FAILED, kind.value,
                "Stripe refused the payment account's key, so the card was NOT charged. A "
                "Full Access user can update the key in Settings > Payment accounts.")
        if kind in (GatewayErrorKind.INVALID, GatewayErrorKind.NOT_FOUND):
            return self._settle(
                actor, attempt_id, AttemptStatus.FAILED, exc.code or kind.value,
                f"Stripe refused the charge ({exc.message}). {NOT_CHARGED}")
        # Unknown outcome: keep the attempt unknown, then reconcile right away.
        self._settle(actor, attempt_id, AttemptStatus.UNKNOWN, "no_answer", UNKNOWN_MESSAGE)
        return self._reconcile_charge(actor, attempt_id)

    @staticmethod
    def _cancel_quietly(gateway: PaymentGateway, intent_id: str) -> None:
        """An off-session intent waiting for authentication is cancelled: the patient pays by
        link instead, so this one must never complete later."""
        try:
            gateway.cancel_payment_intent(intent_id)
        except GatewayError as exc:
            log.warning("could not cancel payment intent %s: %s", intent_id, exc.kind.value)

    def _settle(
        self,
        actor: Actor | None,
        attempt_id: uuid.UUID,
        status: AttemptStatus,
        code: str,
        message: str,
        *,
        intent_id: str | None = None,
    ) -> ChargeOutcome:
        """Record a non-success status (failed, requires_action, unknown) on an attempt."""
        with self._lock, self.db.transaction() as s:
            attempt = self._locked_attempt(s, attempt_id)
            if attempt.status not in UNSETTLED:
                return self._outcome(s, attempt)  # settled meanwhile (another desk)
            if status is AttemptStatus.UNKNOWN and attempt.status is AttemptStatus.UNKNOWN \
                    and intent_id in (None, attempt.stripe_payment_intent_id):
                return self._outcome(s, attempt, message)
            attempt.status = status
            attempt.failure_code = code[:64]
            attempt.failure_message = message
            if intent_id:
                attempt.stripe_payment_intent_id = intent_id
            if status not in UNSETTLED:
                attempt.settled_at = self.db.clock.now()
            action = {
                AttemptStatus.FAILED: "card.charge_failed",
                AttemptStatus.REQUIRES_ACTION: "card.charge_needs_authentication",
                AttemptStatus.UNKNOWN: "card.charge_unknown",
            }[status]
            audit.record(
                s, actor, action, entity=attempt, patient_id=attempt.patient_id,
                workstation=attempt.workstation,
                summary=(f"Card charge of {format_money(attempt.amount_cents, attempt.currency)}"
                         f": {status.value} ({code})"),
                details={"attempt": str(attempt.id), "code": code},
            )
            s.flush()
            return self._outcome(s, attempt, message)

    def _record_success(self, actor: Actor | None, attempt_id: uuid.UUID,
                        intent_id: str | None, charge_id: str | None) -> ChargeOutcome:
        """Step 3: the payment, its allocations and the attempt's status in ONE transaction."""
        for _try in range(2):
            try:
                with self._lock, self.db.transaction() as s:
                    return self._record_success_in(s, actor, attempt_id, intent_id, charge_id)
            except IntegrityError:
                # Another desk recorded this payment at the same moment: read what it wrote.
                continue
        with self.db.reading() as s:
            return self._outcome(s, s.get_one(ChargeAttempt, attempt_id))

    def _record_success_in(self, s: Session, actor: Actor | None, attempt_id: uuid.UUID,
                           intent_id: str | None, charge_id: str | None) -> ChargeOutcome:
        attempt = self._locked_attempt(s, attempt_id)
        if attempt.status is AttemptStatus.SUCCEEDED:
            return self._outcome(s, attempt)
        already = None
        if intent_id:
            already = s.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
        if already is None and charge_id:
            already = s.scalar(select(Payment).where(Payment.stripe_charge_id == charge_id))
        now = self.db.clock.now()
        if already is not None:  # recorded by another desk that observed the same intent
            attempt.status = AttemptStatus.SUCCEEDED
            attempt.payment_id = already.id
            attempt.stripe_payment_intent_id = intent_id
            attempt.stripe_charge_id = charge_id or already.stripe_charge_id
            attempt.settled_at = now
            attempt.failure_code = ""
            attempt.failure_message = ""
            s.flush()
            return self._outcome(s, attempt)
        card = s.get_one(CardOnFile, attempt.card_id)
        payment = Payment(
            clinic_id=attempt.clinic_id,
            patient_id=attempt.patient_id,
            location_id=attempt.location_id,
            method=PaymentMethod.CARD,
            amount_cents=attempt.amount_cents,
            received_at=now,
            collected_by=attempt.collected_by,
            collected_by_staff_id=attempt.created_by_id,
            payment_account_id=attempt.payment_account_id,
            stripe_payment_intent_id=intent_id,
            stripe_charge_id=charge_id,
            reference=f"{brand_label(card.brand)} •••• {card.last4}",
            workstation=attempt.workstation,
        )
        s.add(payment)
        s.flush()
        planned = list(s.scalars(
            select(ChargeAttemptInvoice).where(ChargeAttemptInvoice.attempt_id == attempt.id)
            .order_by(ChargeAttemptInvoice.position)))
        invoices = {i.id: i for i in s.scalars(
            select(Invoice).where(Invoice.id.in_([p.invoice_id for p in planned]))
            .order_by(Invoice.id).with_for_update())}
        remaining = attempt.amount_cents
        applied: dict[uuid.UUID, int] = {}
        for part in planned:
            inv = invoices[part.invoice_id]
            if inv.status != InvoiceStatus.OPEN:
                continue  # deleted meanwhile: its share stays as credit
            # Paid another way meanwhile? Apply only what is still owing; the rest is credit.
            share = min(part.amount_cents, inv.total_cents - invoice_applied(s, inv.id),
                        remaining)
            if share <= 0:
                continue
            s.add(Allocation(payment_id=payment.id, invoice_id=inv.id,
                             patient_id=attempt.patient_id, amount_cents=share,
                             created_by_id=attempt.created_by_id,
                             workstation=attempt.workstation))
            s.flush()
            applied[inv.id] = share
            remaining -= share
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.payment_id = payment.id
        attempt.stripe_payment_intent_id = intent_id
        attempt.stripe_charge_id = charge_id
        attempt.failure_code = ""
        attempt.failure_message = ""
        attempt.settled_at = now
        money = format_money(attempt.amount_cents, attempt.currency)
        who = self._collector(s, attempt)
        audit.record(
            s, actor, "card.top_up" if attempt.purpose is AttemptPurpose.TOP_UP
            else "card.charged",
            entity=payment, patient_id=attempt.patient_id, workstation=attempt.workstation,
            summary=(f"Account credit of {money} added by card" if attempt.purpose is
                     AttemptPurpose.TOP_UP else f"Card payment of {money}"),
            details={"attempt": str(attempt.id), "payment": str(payment.id),
                     "applied": {str(k): v for k, v in applied.items()},
                     "to_credit": remaining, "collected_by": who,
                     "recorded_by": actor.description if actor else "reconciliation"},
        )
        s.flush()
        return self._outcome(s, attempt)

    @staticmethod
    def _collector(s: Session, attempt: ChargeAttempt) -> str:
        if attempt.collected_by is CollectedBy.PATIENT:
            return "the patient"
        staff = s.get(Staff, attempt.created_by_id) if attempt.created_by_id else None
        name = staff.full_name if staff else "staff"
        return f"{name} at {attempt.workstation}"

    @staticmethod
    def _locked_attempt(s: Session, attempt_id: uuid.UUID) -> ChargeAttempt:
        attempt = s.scalar(
            select(ChargeAttempt).where(ChargeAttempt.id == attempt_id).with_for_update()
        )
        if attempt is None:
            raise NotFound("That card charge does not exist.")
        return attempt

    def _outcome(self, s: Session, attempt: ChargeAttempt, message: str = "") -> ChargeOutcome:
        applied: dict[uuid.UUID, int] = {}
        to_credit = 0
        if attempt.status is AttemptStatus.SUCCEEDED and attempt.payment_id is not None:
            for invoice_id, cents in s.execute(
                select(Allocation.invoice_id, func.sum(Allocation.amount_cents))
                .where(Allocation.payment_id == attempt.payment_id)
                .group_by(Allocation.invoice_id)
            ).all():
                if cents:
                    applied[invoice_id] = int(cents)
            to_credit = attempt.amount_cents - sum(applied.values())
            money = format_money(attempt.amount_cents, attempt.currency)
            if not message:
                message = (f"Charged {money} to the card."
                           + (f" {format_money(to_credit, attempt.currency)} is now account "
                              "credit." if to_credit else ""))
        elif not message:
            if attempt.status is AttemptStatus.PENDING:
                message = IN_PROGRESS_MESSAGE
            else:
                message = attempt.failure_message or (
                    UNKNOWN_MESSAGE if attempt.status in UNSETTLED else "")
        return ChargeOutcome(
            attempt_id=attempt.id,
            status=attempt.status,
            amount_cents=attempt.amount_cents,
            currency=attempt.currency,
            message=message,
            failure_code=attempt.failure_code,
            payment_id=attempt.payment_id,
            applied=applied,
            to_credit_cents=to_credit,
        )

    # ----- refunds ---------------------------------------------------------------------------

    def refund_card_payment(
        self,
        actor: Actor,
        payment_id: uuid.UUID,
        amount_cents: int,
        *,
        to: RefundDestination = "card",
        reason: str = "",
        request_id: uuid.UUID | None = None,
    ) -> RefundOutcome:
        """Refund all or part of a card payment, back to the card or to account credit.

        A refund comes first out of the payment's unapplied part (its credit); whatever more is
        needed is unapplied from the invoices it paid, the most recently applied first. More
        than is left of the payment is refused. ``to="credit"`` gives no money back: it takes
        that much off the payment's invoices so it becomes the patient's available credit
        (refused beyond what is on invoices). ``request_id`` as for ``charge_card``.
        """
        return self.refunds.refund_card_payment(actor, payment_id, amount_cents, to=to,
                                                reason=reason, request_id=request_id)

    # ----- reconciling ------------------------------------------------------------------------

    def reconcile_unknown(
        self, actor: Actor | None = None, *, patient_id: uuid.UUID | None = None
    ) -> ReconcileReport:
        """Settle every pending or unknown charge and refund by asking Stripe what happened.

        Run it at startup (``actor`` None: the audit events name the attempt's own staff
        member and workstation, and say "reconciliation"); it also runs for a patient before
        any new charge. It never charges or refunds anything itself: it records what Stripe did.
        """
        report = ReconcileReport()
        clinic_id = actor.clinic_id if actor is not None else None
        query = select(ChargeAttempt.id).where(ChargeAttempt.status.in_(UNSETTLED))
        if clinic_id is not None:
            query = query.where(ChargeAttempt.clinic_id == clinic_id)
        if patient_id is not None:
            query = query.where(ChargeAttempt.patient_id == patient_id)
        with self.db.reading() as s:
            charges = list(s.scalars(query.order_by(ChargeAttempt.created_at)))
        for attempt_id in charges:
            try:
                report.tally(attempt_id, self._reconcile_charge(actor, attempt_id).status)
            except ServiceError as exc:
                report.problem(attempt_id, str(exc))
        for attempt_id in self.refunds.unsettled_ids(clinic_id, patient_id=patient_id):
            try:
                report.tally(attempt_id, self.refunds.reconcile_refund(actor, attempt_id).status)
            except ServiceError as exc:
                report.problem(attempt_id, str(exc))
        if report.checked:
            log.info("reconciled %d attempt(s): %d succeeded, %d failed, %d unsettled",
                     report.checked, len(report.succeeded), len(report.failed),
                     len(report.still_unsettled))
        return report

    def _reconcile_patient(self, actor: Actor, patient_id: uuid.UUID) -> None:
        self.reconcile_unknown(actor, patient_id=patient_id)

    def _reconcile_charge(self, actor: Actor | None, attempt_id: uuid.UUID) -> ChargeOutcome:
        with self.db.reading() as s:
            attempt = s.get_one(ChargeAttempt, attempt_id)
            if attempt.status not in UNSETTLED:
                return self._outcome(s, attempt)
            intent_id = attempt.stripe_payment_intent_id
            account_id = attempt.payment_account_id
            age = self.db.clock.now() - attempt.created_at
            customer_id = s.scalar(select(StripeCustomer.stripe_customer_id).where(
                StripeCustomer.patient_id == attempt.patient_id,
                StripeCustomer.payment_account_id == account_id))
        gateway = self.accounts.gateway_for(account_id)
        try:
            if intent_id:
                intent = gateway.retrieve_payment_intent(intent_id)
                return self._after_intent(actor, attempt_id, intent, gateway)
            matches = [c for c in gateway.list_charges(customer_id or "")
                       if c.metadata.get("attempt_id") == str(attempt_id)] if customer_id else []
        except GatewayError as exc:
            if exc.kind is GatewayErrorKind.NOT_FOUND and intent_id:
                matches = []
            else:
                with self.db.reading() as s:
                    attempt = s.get_one(ChargeAttempt, attempt_id)
                    return self._outcome(s, attempt, UNKNOWN_MESSAGE + " (Stripe could not be "
                                         "reached to check it.)" if attempt.status is
                                         AttemptStatus.UNKNOWN else "")
        return self._conclude(actor, attempt_id, matches, age)

    def _conclude(self, actor: Actor | None, attempt_id: uuid.UUID,
                  matches: list[ChargeInfo], age: timedelta) -> ChargeOutcome:
        paid = [c for c in matches if c.status == "succeeded"]
        if paid:
            if len(paid) > 1:
                self._flag_duplicates(actor, attempt_id, paid)
            charge = paid[-1]  # the oldest (Stripe lists newest first)
            return self._record_success(actor, attempt_id, charge.payment_intent_id, charge.id)
        if any(c.status == "pending" for c in matches):
            return self._settle(actor, attempt_id, AttemptStatus.UNKNOWN, "processing",
                                UNKNOWN_MESSAGE)
        failed = [c for c in matches if c.status == "failed"]
        if failed:
            code = failed[0].failure_code or "card_declined"
            return self._settle(actor, attempt_id, AttemptStatus.FAILED, code,
                                _decline_message(code))
        if age >= self.settle_after:
            return self._settle(actor, attempt_id, AttemptStatus.FAILED, "not_charged",
                                NOT_FOUND_MESSAGE)
        # Too soon to be sure a slow request will not still land: keep checking.
        with self.db.reading() as s:
            return self._outcome(s, s.get_one(ChargeAttempt, attempt_id))

    def _flag_duplicates(self, actor: Actor | None, attempt_id: uuid.UUID,
                         paid: list[ChargeInfo]) -> None:
        log.error("attempt %s matches %d charges at Stripe", attempt_id, len(paid))
        with self.db.transaction() as s:
            attempt = s.get_one(ChargeAttempt, attempt_id)
            audit.record(
                s, actor, "card.duplicate_charge_at_stripe", entity=attempt,
                patient_id=attempt.patient_id, workstation=attempt.workstation,
                summary=(f"Stripe holds {len(paid)} charges for one card charge: refund the "
                         "extra ones in the Stripe Dashboard"),
                details={"charges": [c.id for c in paid]},
            )
