"""Step 3 of a card charge: recording what Stripe said, in one local transaction each.

Success records the payment (unique on its Stripe ids), its allocations and the attempt's
status together; any other answer (failed, requires_action, unknown) is recorded on the
attempt alone, and nothing is recorded as paid.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation, Invoice, Payment
from desk_app.models.card_attempts import ChargeAttempt, ChargeAttemptInvoice
from desk_app.models.cards import CardOnFile
from desk_app.models.enums import (
    AttemptPurpose,
    AttemptStatus,
    CollectedBy,
    InvoiceStatus,
    PaymentMethod,
)
from desk_app.models.money import format_money
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_charge_outcomes import (
    AUTH_MESSAGE,
    UNKNOWN_MESSAGE,
    ChargeOutcome,
    attempt_outcome,
    decline_message,
)
from desk_app.services.card_protocol import UNSETTLED, mark_attempt, record_once
from desk_app.services.cards import brand_label
from desk_app.services.db import Database
from desk_app.services.errors import NotFound
from desk_app.services.ledger import invoice_applied
from desk_app.services.stripe_gateway import GatewayError, PaymentGateway, PaymentIntentInfo

log = logging.getLogger(__name__)


class ChargeRecorder:
    """Records the outcome of a charge attempt (``CardPaymentService`` and its reconciling
    share one, with the service's lock)."""

    def __init__(self, db: Database, lock: threading.Lock) -> None:
        self.db = db
        self._lock = lock

    def outcome_now(self, attempt_id: uuid.UUID, message: str = "") -> ChargeOutcome:
        """Where the attempt stands, read in a session of its own."""
        with self.db.reading() as s:
            return attempt_outcome(s, s.get_one(ChargeAttempt, attempt_id), message)

    def record_intent(self, actor: Actor | None, attempt_id: uuid.UUID,
                      intent: PaymentIntentInfo, gateway: PaymentGateway) -> ChargeOutcome:
        """Record what a PaymentIntent's status says happened to the attempt."""
        if intent.status == "succeeded":
            return self.record_success(actor, attempt_id, intent.id, intent.charge_id)
        if intent.status in ("requires_action", "requires_confirmation"):
            # localstripe's off-session 3-D Secure answer (real Stripe raises a CardError).
            cancel_quietly(gateway, intent.id)
            return self.settle(actor, attempt_id, AttemptStatus.REQUIRES_ACTION,
                               "authentication_required", AUTH_MESSAGE, intent_id=intent.id)
        if intent.status in ("requires_payment_method", "canceled"):
            code = intent.decline_code or intent.error_code or "card_declined"
            if "authentication" in code:
                return self.settle(actor, attempt_id, AttemptStatus.REQUIRES_ACTION,
                                   "authentication_required", AUTH_MESSAGE, intent_id=intent.id)
            return self.settle(actor, attempt_id, AttemptStatus.FAILED, code,
                               decline_message(intent.error_code, intent.decline_code),
                               intent_id=intent.id)
        # processing (or anything new): Stripe has not decided; check again later.
        return self.settle(actor, attempt_id, AttemptStatus.UNKNOWN, "processing",
                           UNKNOWN_MESSAGE, intent_id=intent.id)

    def settle(
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
            attempt = locked_attempt(s, attempt_id)
            if attempt.status not in UNSETTLED:
                return attempt_outcome(s, attempt)  # settled meanwhile (another desk)
            if status is AttemptStatus.UNKNOWN and attempt.status is AttemptStatus.UNKNOWN \
                    and intent_id in (None, attempt.stripe_payment_intent_id):
                return attempt_outcome(s, attempt, message)
            if intent_id:
                attempt.stripe_payment_intent_id = intent_id
            mark_attempt(attempt, status, code, message, self.db.clock)
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
            return attempt_outcome(s, attempt, message)

    def record_success(self, actor: Actor | None, attempt_id: uuid.UUID,
                       intent_id: str | None, charge_id: str | None) -> ChargeOutcome:
        """The payment, its allocations and the attempt's status in ONE transaction."""
        return record_once(
            self.db, self._lock,
            lambda s: self._record_success_in(s, actor, attempt_id, intent_id, charge_id),
            lambda s: attempt_outcome(s, s.get_one(ChargeAttempt, attempt_id)),
        )

    def _record_success_in(self, s: Session, actor: Actor | None, attempt_id: uuid.UUID,
                           intent_id: str | None, charge_id: str | None) -> ChargeOutcome:
        attempt = locked_attempt(s, attempt_id)
        if attempt.status is AttemptStatus.SUCCEEDED:
            return attempt_outcome(s, attempt)
        already = None
        if intent_id:
            already = s.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
        if already is None and charge_id:
            already = s.scalar(select(Payment).where(Payment.stripe_charge_id == charge_id))
        now = self.db.clock.now()
        if already is not None:  # recorded by another desk that observed the same intent
            _succeeded(attempt, already.id, intent_id, charge_id or already.stripe_charge_id, now)
            s.flush()
            return attempt_outcome(s, attempt)
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
        applied = _allocate_planned(s, attempt, payment)
        remaining = attempt.amount_cents - sum(applied.values())
        _succeeded(attempt, payment.id, intent_id, charge_id, now)
        money = format_money(attempt.amount_cents, attempt.currency)
        who = _collector(s, attempt)
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
        return attempt_outcome(s, attempt)


def _allocate_planned(s: Session, attempt: ChargeAttempt, payment: Payment) -> dict[uuid.UUID, int]:
    """Apply the payment to the invoices the attempt planned to pay, as far as each still owes;
    what is not applied stays as credit. Returns the cents applied by invoice."""
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
    return applied


def _succeeded(attempt: ChargeAttempt, payment_id: uuid.UUID, intent_id: str | None,
               charge_id: str | None, now: datetime) -> None:
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.payment_id = payment_id
    attempt.stripe_payment_intent_id = intent_id
    attempt.stripe_charge_id = charge_id
    attempt.failure_code = ""
    attempt.failure_message = ""
    attempt.settled_at = now


def _collector(s: Session, attempt: ChargeAttempt) -> str:
    if attempt.collected_by is CollectedBy.PATIENT:
        return "the patient"
    staff = s.get(Staff, attempt.created_by_id) if attempt.created_by_id else None
    name = staff.full_name if staff else "staff"
    return f"{name} at {attempt.workstation}"


def locked_attempt(s: Session, attempt_id: uuid.UUID) -> ChargeAttempt:
    attempt = s.scalar(
        select(ChargeAttempt).where(ChargeAttempt.id == attempt_id).with_for_update()
    )
    if attempt is None:
        raise NotFound("That card charge does not exist.")
    return attempt


def cancel_quietly(gateway: PaymentGateway, intent_id: str) -> None:
    """An off-session intent waiting for authentication is cancelled: the patient pays by
    link instead, so this one must never complete later."""
    try:
        gateway.cancel_payment_intent(intent_id)
    except GatewayError as exc:
        log.warning("could not cancel payment intent %s: %s", intent_id, exc.kind.value)
