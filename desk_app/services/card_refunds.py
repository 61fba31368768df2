"""Refunding card payments, back to the card (through Stripe, exactly once) or to credit.

A refund to the card moves money, so it follows the same protocol as a charge
(``card_payments``): a refund attempt with an idempotency key is committed before Stripe is
called with that key and ``refund_attempt_id`` in the metadata; success records the Refund
(unique on its Stripe id), the unapplied allocations and the attempt in one transaction; an
unknown outcome is reconciled by listing the charge's refunds and matching the metadata.

Allocation rule: a refund comes first out of the payment's unapplied part (its credit);
whatever more is needed is unapplied from the invoices the payment paid, the most recently
applied first. A refund of more than is left of the payment is refused (localstripe would
allow an over-refund after a partial one; we never ask it to).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, Invoice, Payment, Refund
from desk_app.models.card_attempts import RefundAttempt
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AttemptStatus, PaymentMethod
from desk_app.models.money import format_money
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_protocol import (
    UNSETTLED,
    mark_attempt,
    record_once,
    unsettled_attempt_ids,
)
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.ledger import payment_allocated, payment_refunded
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.permissions import Permission, require
from desk_app.services.stripe_gateway import GatewayError, GatewayErrorKind, RefundInfo

log = logging.getLogger(__name__)

RefundDestination = Literal["card", "credit"]


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    status: AttemptStatus
    amount_cents: int
    currency: str
    message: str
    to: RefundDestination
    attempt_id: uuid.UUID | None = None  # refunds to the card only
    refund_id: uuid.UUID | None = None
    unapplied: dict[uuid.UUID, int] = field(default_factory=dict)  # invoice -> cents taken off
    failure_code: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is AttemptStatus.SUCCEEDED

    @property
    def unsettled(self) -> bool:
        return self.status in UNSETTLED


REFUND_UNKNOWN = (
    "Stripe did not answer, so it is not known yet whether the refund went through. It is "
    "being checked with Stripe; do not refund again until it is settled."
)
REFUND_NOT_SENT = (
    "Stripe could not be reached, so nothing was refunded. Check the internet connection "
    "and try again."
)


class CardRefunds:
    """The refund half of the card payment service (``CardPaymentService`` delegates here)."""

    def __init__(self, db: Database, accounts: PaymentAccountService, lock: threading.Lock,
                 settle_after: Callable[[], timedelta]) -> None:
        self.db = db
        self.accounts = accounts
        self._lock = lock
        self._settle_after = settle_after

    def unsettled_ids(self, clinic_id: uuid.UUID | None, *, patient_id: uuid.UUID | None = None,
                      payment_id: uuid.UUID | None = None,
                      workstation: str | None = None) -> list[uuid.UUID]:
        query = unsettled_attempt_ids(RefundAttempt, clinic_id, patient_id)
        if workstation is not None:
            query = query.where(RefundAttempt.workstation == workstation)
        if payment_id is not None:
            query = query.where(RefundAttempt.payment_id == payment_id)
        with self.db.reading() as s:
            return list(s.scalars(query.order_by(RefundAttempt.created_at)))

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

        Allocation rule: the refund comes first out of the payment's unapplied part (credit);
        whatever more is needed is unapplied from the invoices it paid, the most recently
        applied first. Refunding more than what is left of the payment is refused.
        ``to="credit"`` gives no money back: it unapplies that much from the invoices so it
        becomes the patient's available credit (refused beyond what is applied).
        """
        require(actor, Permission.REFUND)
        if amount_cents <= 0:
            raise ValidationError("Enter an amount greater than zero to refund.", "amount")
        if to == "credit":
            return self._refund_to_credit(actor, payment_id, amount_cents, reason)
        key = f"fd-re-{(request_id or uuid.uuid4()).hex}"
        with self.db.reading() as s:
            existing = s.scalar(select(RefundAttempt.id).where(
                RefundAttempt.idempotency_key == key))
            payment = s.get(Payment, payment_id)
            if payment is None or payment.clinic_id != actor.clinic_id:
                raise NotFound("That payment no longer exists.")
            patient_id = payment.patient_id
            account_id = payment.payment_account_id
            method = payment.method
        if existing is not None:
            return self.reconcile_refund(actor, existing)
        if account_id is None or method != PaymentMethod.CARD:
            raise ValidationError("Only card payments taken through Stripe are refunded to "
                                  "the card; refund this payment from the ledger instead.")
        gateway = self.accounts.gateway_for(account_id)
        for unsettled in self.unsettled_ids(actor.clinic_id, payment_id=payment_id):
            self.reconcile_refund(actor, unsettled)
        with self._lock:
            try:
                with self.db.transaction() as s:
                    created = self._create_refund_attempt(s, actor, payment_id, amount_cents,
                                                          reason, key)
            except IntegrityError:
                with self.db.reading() as s:
                    again = s.scalar(select(RefundAttempt.id).where(
                        RefundAttempt.idempotency_key == key))
                if again is None:
                    raise
                return self.reconcile_refund(actor, again)
        attempt_id, charge_id = created
        try:
            info = gateway.create_refund(
                charge_id=charge_id, amount=amount_cents, idempotency_key=key,
                metadata={"refund_attempt_id": str(attempt_id), "payment_id": str(payment_id),
                          "patient_id": str(patient_id)},
            )
        except GatewayError as exc:
            if exc.kind is GatewayErrorKind.UNKNOWN_OUTCOME:
                self._settle_refund(actor, attempt_id, AttemptStatus.UNKNOWN, "no_answer",
                                    REFUND_UNKNOWN)
                return self.reconcile_refund(actor, attempt_id)
            message = (REFUND_NOT_SENT if exc.kind in (GatewayErrorKind.NOT_SENT,
                                                       GatewayErrorKind.RATE_LIMITED)
                       else f"Stripe refused the refund ({exc.message}). Nothing was refunded.")
            return self._settle_refund(actor, attempt_id, AttemptStatus.FAILED,
                                       exc.code or exc.kind.value, message)
        return self._after_refund(actor, attempt_id, info)

    def _create_refund_attempt(self, s: Session, actor: Actor, payment_id: uuid.UUID,
                               amount: int, reason: str, key: str) -> tuple[uuid.UUID, str]:
        payment = s.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
        if payment is None:
            raise NotFound("That payment no longer exists.")
        if not payment.stripe_charge_id or payment.payment_account_id is None:
            raise ValidationError("This payment has no Stripe charge to refund.")
        busy = s.scalar(select(func.count()).select_from(RefundAttempt).where(
            RefundAttempt.payment_id == payment.id, RefundAttempt.status.in_(UNSETTLED)))
        if busy:
            raise Conflict("A refund of this payment is still being checked with Stripe. "
                           "Try again in a minute.")
        clinic = s.get_one(Clinic, actor.clinic_id)
        left = payment.amount_cents - payment_refunded(s, payment.id)
        if amount > left:
            raise ValidationError(
                f"Only {format_money(left, clinic.currency)} of this payment can still be "
                "refunded; refund that much or less.", "amount")
        attempt = RefundAttempt(
            clinic_id=payment.clinic_id,
            patient_id=payment.patient_id,
            payment_id=payment.id,
            payment_account_id=payment.payment_account_id,
            amount_cents=amount,
            idempotency_key=key,
            status=AttemptStatus.PENDING,
            reason=reason.strip(),
            created_by_id=actor.staff_id,
            workstation=actor.workstation,
        )
        s.add(attempt)
        s.flush()
        audit.record(
            s, actor, "card.refund_started", entity=attempt, patient_id=payment.patient_id,
            summary=f"Refund of {format_money(amount, clinic.currency)} to the card sent to "
                    "Stripe",
            details={"payment": str(payment.id), "amount": amount},
        )
        return attempt.id, payment.stripe_charge_id

    def _after_refund(self, actor: Actor | None, attempt_id: uuid.UUID,
                      info: RefundInfo) -> RefundOutcome:
        if info.status in ("succeeded", "pending", "requires_action"):
            # Stripe has taken the refund on; the money is on its way back to the card.
            return self._record_refund(actor, attempt_id, info.id)
        return self._settle_refund(actor, attempt_id, AttemptStatus.FAILED,
                                   f"refund_{info.status}",
                                   f"Stripe did not refund it (status {info.status}). Nothing "
                                   "was refunded.")

    def _record_refund(self, actor: Actor | None, attempt_id: uuid.UUID,
                       stripe_refund_id: str) -> RefundOutcome:
        return record_once(
            self.db, self._lock,
            lambda s: self._record_refund_in(s, actor, attempt_id, stripe_refund_id),
            lambda s: self._refund_outcome(s, s.get_one(RefundAttempt, attempt_id)),
        )

    def _record_refund_in(self, s: Session, actor: Actor | None, attempt_id: uuid.UUID,
                          stripe_refund_id: str) -> RefundOutcome:
        attempt = s.scalar(select(RefundAttempt).where(RefundAttempt.id == attempt_id)
                           .with_for_update())
        if attempt is None:
            raise NotFound("That refund does not exist.")
        if attempt.status is AttemptStatus.SUCCEEDED:
            return self._refund_outcome(s, attempt)
        payment = s.scalar(select(Payment).where(Payment.id == attempt.payment_id)
                           .with_for_update())
        assert payment is not None
        currency = s.get_one(Clinic, attempt.clinic_id).currency
        unapplied = _unapply_newest_first(
            s, payment, need=attempt.amount_cents - _unapplied_of(s, payment),
            staff_id=attempt.created_by_id, workstation=attempt.workstation)
        refund = Refund(
            payment_id=payment.id,
            patient_id=payment.patient_id,
            amount_cents=attempt.amount_cents,
            method=PaymentMethod.CARD,
            reason=attempt.reason,
            created_by_id=attempt.created_by_id,
            workstation=attempt.workstation,
            stripe_refund_id=stripe_refund_id,
        )
        s.add(refund)
        s.flush()
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.stripe_refund_id = stripe_refund_id
        attempt.refund_id = refund.id
        attempt.failure_code = ""
        attempt.failure_message = ""
        attempt.settled_at = self.db.clock.now()
        audit.record(
            s, actor, "card.refunded", entity=refund, patient_id=payment.patient_id,
            workstation=attempt.workstation,
            summary=f"Refunded {format_money(attempt.amount_cents, currency)} to the card",
            details={"payment": str(payment.id), "amount": attempt.amount_cents,
                     "unapplied": {str(k): v for k, v in unapplied.items()},
                     "recorded_by": actor.description if actor else "reconciliation"},
        )
        s.flush()
        return self._refund_outcome(s, attempt, unapplied)

    def _settle_refund(self, actor: Actor | None, attempt_id: uuid.UUID,
                       status: AttemptStatus, code: str, message: str) -> RefundOutcome:
        with self._lock, self.db.transaction() as s:
            attempt = s.scalar(select(RefundAttempt).where(RefundAttempt.id == attempt_id)
                               .with_for_update())
            if attempt is None:
                raise NotFound("That refund does not exist.")
            if attempt.status not in UNSETTLED:
                return self._refund_outcome(s, attempt)
            if status is attempt.status:
                return self._refund_outcome(s, attempt, message=message)
            mark_attempt(attempt, status, code, message, self.db.clock)
            audit.record(
                s, actor, "card.refund_" + ("unknown" if status is AttemptStatus.UNKNOWN
                                            else "failed"),
                entity=attempt, patient_id=attempt.patient_id, workstation=attempt.workstation,
                summary=f"Refund to the card: {status.value} ({code})",
                details={"attempt": str(attempt.id), "code": code},
            )
            s.flush()
            return self._refund_outcome(s, attempt, message=message)

    def reconcile_refund(self, actor: Actor | None, attempt_id: uuid.UUID, *,
                          workstation: str = "") -> RefundOutcome:
        with self.db.reading() as s:
            attempt = s.get_one(RefundAttempt, attempt_id)
            if attempt.status not in UNSETTLED:
                return self._refund_outcome(s, attempt)
            payment = s.get_one(Payment, attempt.payment_id)
            charge_id = payment.stripe_charge_id or ""
            account_id = attempt.payment_account_id
            age = self.db.clock.now() - attempt.created_at
        gateway = self.accounts.gateway_for(account_id)
        try:
            matches = [r for r in gateway.list_refunds(charge_id)
                       if r.metadata.get("refund_attempt_id") == str(attempt_id)]
        except GatewayError:
            with self.db.reading() as s:
                return self._refund_outcome(s, s.get_one(RefundAttempt, attempt_id),
                                            message=REFUND_UNKNOWN)
        done = [r for r in matches if r.status in ("succeeded", "pending", "requires_action")]
        if done:
            return self._record_refund(actor, attempt_id, done[-1].id)
        if matches:
            return self._settle_refund(actor, attempt_id, AttemptStatus.FAILED,
                                       f"refund_{matches[0].status}",
                                       "Stripe did not refund it. Nothing was refunded.")
        if age >= self._settle_after():
            return self._settle_refund(actor, attempt_id, AttemptStatus.FAILED, "not_refunded",
                                       "Checked with Stripe: this refund never reached it, so "
                                       "nothing was refunded. You can try again.")
        with self.db.reading() as s:
            return self._refund_outcome(s, s.get_one(RefundAttempt, attempt_id),
                                        message=REFUND_UNKNOWN)

    def _refund_outcome(self, s: Session, attempt: RefundAttempt,
                        unapplied: dict[uuid.UUID, int] | None = None,
                        message: str = "") -> RefundOutcome:
        currency = s.get_one(Clinic, attempt.clinic_id).currency
        if not message:
            if attempt.status is AttemptStatus.SUCCEEDED:
                message = (f"Refunded {format_money(attempt.amount_cents, currency)} to the "
                           "card. It reaches the patient's account in 5-10 business days.")
            else:
                message = attempt.failure_message or (
                    REFUND_UNKNOWN if attempt.status in UNSETTLED else "")
        return RefundOutcome(
            status=attempt.status, amount_cents=attempt.amount_cents, currency=currency,
            message=message, to="card", attempt_id=attempt.id, refund_id=attempt.refund_id,
            unapplied=dict(unapplied or {}), failure_code=attempt.failure_code,
        )

    def _refund_to_credit(self, actor: Actor, payment_id: uuid.UUID, amount: int,
                          reason: str) -> RefundOutcome:
        with self._lock, self.db.transaction() as s:
            payment = s.scalar(select(Payment).where(Payment.id == payment_id)
                               .with_for_update())
            if payment is None or payment.clinic_id != actor.clinic_id:
                raise NotFound("That payment no longer exists.")
            if payment.method != PaymentMethod.CARD:
                raise ValidationError("Only card payments are refunded here.")
            currency = s.get_one(Clinic, actor.clinic_id).currency
            applied = payment_allocated(s, payment.id)
            if amount > applied:
                if applied <= 0:
                    raise ValidationError("None of this payment is on an invoice: it is "
                                          "already account credit.", "amount")
                raise ValidationError(
                    f"Only {format_money(applied, currency)} of this payment is on invoices; "
                    "the rest is already account credit. Refund that much or less to credit.",
                    "amount")
            unapplied = _unapply_newest_first(s, payment, need=amount, staff_id=actor.staff_id,
                                              workstation=actor.workstation)
            audit.record(
                s, actor, "card.refunded_to_credit", entity=payment,
                patient_id=payment.patient_id,
                summary=f"{format_money(amount, currency)} of a card payment moved to account "
                        "credit",
                details={"amount": amount, "reason": reason.strip(),
                         "unapplied": {str(k): v for k, v in unapplied.items()}},
            )
            return RefundOutcome(
                status=AttemptStatus.SUCCEEDED, amount_cents=amount, currency=currency,
                message=f"{format_money(amount, currency)} is now account credit.",
                to="credit", unapplied=unapplied,
            )


def _unapplied_of(s: Session, payment: Payment) -> int:
    return payment.amount_cents - payment_allocated(s, payment.id) - payment_refunded(s, payment.id)


def _unapply_newest_first(s: Session, payment: Payment, *, need: int,
                          staff_id: uuid.UUID | None, workstation: str) -> dict[uuid.UUID, int]:
    """Take ``need`` cents of a payment back off its invoices, most recently applied first."""
    if need <= 0:
        return {}
    rows = list(s.execute(
        select(Allocation.invoice_id, Allocation.amount_cents, Allocation.created_at)
        .where(Allocation.payment_id == payment.id)
        .order_by(Allocation.created_at, Allocation.id)
    ).all())
    net: dict[uuid.UUID, int] = defaultdict(int)
    latest: dict[uuid.UUID, datetime] = {}
    for invoice_id, cents, created in rows:
        net[invoice_id] += cents
        if cents > 0:
            latest[invoice_id] = created
    order = sorted((i for i in net if net[i] > 0), key=lambda i: latest[i], reverse=True)
    invoices = {i.id: i for i in s.scalars(
        select(Invoice).where(Invoice.id.in_(order)).order_by(Invoice.id).with_for_update())}
    taken: dict[uuid.UUID, int] = {}
    for invoice_id in order:
        if need == 0:
            break
        share = min(net[invoice_id], need)
        s.add(Allocation(payment_id=payment.id, invoice_id=invoices[invoice_id].id,
                         patient_id=payment.patient_id, amount_cents=-share,
                         created_by_id=staff_id, workstation=workstation))
        taken[invoice_id] = share
        need -= share
    s.flush()
    if need > 0:  # cannot happen when the amount was checked against what is left
        raise Conflict("This payment does not have that much left to refund.")
    return taken
