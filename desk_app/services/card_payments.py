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

This module is the service the desk calls; the steps live apart: card_charge_attempts (1),
card_charge_recording (3), card_charge_reconciliation (4), card_charge_outcomes (what the
desk is told), card_refunds (refunds), card_protocol (what charges and refunds share).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from desk_app.models.billing import Invoice
from desk_app.models.card_attempts import ChargeAttempt, RefundAttempt
from desk_app.models.cards import CardOnFile
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AttemptPurpose, AttemptStatus
from desk_app.models.staff import Staff
from desk_app.services.actor import Actor
from desk_app.services.card_charge_attempts import (
    AttemptRef,
    ChargeRequest,
    attempt_id_by_key,
    create_attempt_in,
)
from desk_app.services.card_charge_outcomes import (
    AUTH_MESSAGE,
    NOT_CHARGED,
    NOT_SENT_MESSAGE,
    UNKNOWN_MESSAGE,
    ChargeOutcome,
    attempt_outcome,
    decline_message,
)
from desk_app.services.card_charge_reconciliation import ChargeReconciler
from desk_app.services.card_charge_recording import ChargeRecorder, cancel_quietly
from desk_app.services.card_payment_rows import CardPaymentRow, card_payment_rows
from desk_app.services.card_protocol import (
    DEFAULT_SETTLE_AFTER,
    UNSETTLED,
    ReconcileReport,
    UnsettledAttempt,
    db_lock,
    unsettled_attempt_ids,
)
from desk_app.services.card_refunds import CardRefunds, RefundDestination, RefundOutcome
from desk_app.services.charge_targets import (
    ChargeAmount,
    ChargePlan,
    ChargeTarget,
    ChosenInvoices,
    WholeBalance,
    plan_charge,
)
from desk_app.services.db import Database
from desk_app.services.errors import NotFound, ServiceError, ValidationError
from desk_app.services.patient_access import require_patient, require_patient_of
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.permissions import Permission, require
from desk_app.services.stripe_gateway import GatewayError, GatewayErrorKind, PaymentGateway

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
        #: On a synced workstation cache: only attempts made at this workstation are
        #: reconciled here (docs/SYNC.md, "Card attempts"); another desk's unsettled attempt
        #: still blocks new charges of that patient until its own desk settles it.
        self.reconcile_only_workstation: str | None = None
        self._lock = db_lock(db)
        self.refunds = CardRefunds(db, accounts, self._lock, lambda: self.settle_after)
        self.recorder = ChargeRecorder(db, self._lock)
        self.reconciler = ChargeReconciler(db, accounts, self.recorder,
                                           lambda: self.settle_after)

    # ----- reading ---------------------------------------------------------------------------

    def plan(self, actor: Actor, patient_id: uuid.UUID, target: ChargeTarget) -> ChargePlan:
        """What charging ``target`` would pay, for the confirmation step."""
        require(actor, Permission.TAKE_PAYMENT)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            currency = s.get_one(Clinic, actor.clinic_id).currency
            amount, parts = plan_charge(s, patient_id, target, currency, lock=False)
            rows = tuple((invoice_id, s.get_one(Invoice, invoice_id).number, cents)
                         for invoice_id, cents in parts)
            return ChargePlan(amount, currency, rows, amount - sum(c for _, c in parts))

    def unsettled_for_patient(self, actor: Actor, patient_id: uuid.UUID) -> list[UnsettledAttempt]:
        """Charges and refunds of the patient that are still being checked with Stripe."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
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
            require_patient(s, actor, patient_id)
            return card_payment_rows(s, patient_id)

    def charge_outcome(self, actor: Actor, attempt_id: uuid.UUID) -> ChargeOutcome:
        """Where a charge attempt stands now (from the database; no Stripe call)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient_of(s, actor, ChargeAttempt, attempt_id)
            attempt = s.get(ChargeAttempt, attempt_id)
            if attempt is None or attempt.clinic_id != actor.clinic_id:
                raise NotFound("That card charge does not exist.")
            return attempt_outcome(s, attempt)

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
            require_patient(s, actor, patient_id)
            card = s.get(CardOnFile, card_id)
            if card is None or card.patient_id != patient_id:
                raise NotFound("That card is not on this patient's file.")
            account_id = card.payment_account_id
        gateway = self.accounts.gateway_for(account_id)  # refuses early if no key here
        # Settle what is unsettled for this patient first: maybe it was charged after all.
        self._reconcile_patient(actor, patient_id)
        ref = self._create_attempt(
            actor, ChargeRequest(patient_id, card_id, target, purpose, location_id, key))
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
            return self.reconciler.reconcile_charge(actor, attempt_id)
        return self.recorder.outcome_now(attempt_id)

    def _attempt_id_by_key(self, key: str) -> uuid.UUID | None:
        with self.db.reading() as s:
            return attempt_id_by_key(s, key)

    def _create_attempt(self, actor: Actor, request: ChargeRequest) -> AttemptRef | uuid.UUID:
        """Step 1: commit the attempt (and what it pays) before anything is sent."""
        with self._lock:
            try:
                with self.db.transaction() as s:
                    return create_attempt_in(s, self.db.clock, actor, request)
            except IntegrityError:
                again = self._attempt_id_by_key(request.key)
                if again is None:
                    raise
                return again

    def _send(self, actor: Actor | None, ref: AttemptRef,
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
        return self.recorder.record_intent(actor, ref.id, intent, gateway)

    def _after_error(self, actor: Actor | None, attempt_id: uuid.UUID, exc: GatewayError,
                     gateway: PaymentGateway) -> ChargeOutcome:
        settle = self.recorder.settle
        kind = exc.kind
        if kind is GatewayErrorKind.AUTHENTICATION_REQUIRED:
            if exc.payment_intent_id:
                cancel_quietly(gateway, exc.payment_intent_id)
            return settle(actor, attempt_id, AttemptStatus.REQUIRES_ACTION,
                          "authentication_required", AUTH_MESSAGE,
                          intent_id=exc.payment_intent_id)
        if kind is GatewayErrorKind.DECLINED:
            code = exc.decline_code or exc.code or "card_declined"
            return settle(actor, attempt_id, AttemptStatus.FAILED, code,
                          decline_message(exc.code, exc.decline_code),
                          intent_id=exc.payment_intent_id)
        if kind in (GatewayErrorKind.NOT_SENT, GatewayErrorKind.RATE_LIMITED):
            # The request never left (or Stripe turned it away unprocessed): nothing charged.
            return settle(actor, attempt_id, AttemptStatus.FAILED, kind.value,
                          NOT_SENT_MESSAGE)
        if kind is GatewayErrorKind.BAD_KEY:
            return settle(
                actor, attempt_id, AttemptStatus.FAILED, kind.value,
                "Stripe refused the payment account's key, so the card was NOT charged. A "
                "Full Access user can update the key in Settings > Payment accounts.")
        if kind in (GatewayErrorKind.INVALID, GatewayErrorKind.NOT_FOUND):
            return settle(
                actor, attempt_id, AttemptStatus.FAILED, exc.code or kind.value,
                f"Stripe refused the charge ({exc.message}). {NOT_CHARGED}")
        # Unknown outcome: keep the attempt unknown, then reconcile right away.
        settle(actor, attempt_id, AttemptStatus.UNKNOWN, "no_answer", UNKNOWN_MESSAGE)
        return self.reconciler.reconcile_charge(actor, attempt_id)

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
        query = unsettled_attempt_ids(ChargeAttempt, clinic_id, patient_id)
        if self.reconcile_only_workstation is not None:
            query = query.where(ChargeAttempt.workstation == self.reconcile_only_workstation)
        with self.db.reading() as s:
            charges = list(s.scalars(query.order_by(ChargeAttempt.created_at)))
        for attempt_id in charges:
            try:
                report.tally(attempt_id,
                             self.reconciler.reconcile_charge(actor, attempt_id).status)
            except ServiceError as exc:
                report.problem(attempt_id, str(exc))
        for attempt_id in self.refunds.unsettled_ids(
                clinic_id, patient_id=patient_id, workstation=self.reconcile_only_workstation):
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
