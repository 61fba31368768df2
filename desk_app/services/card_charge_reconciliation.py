"""Settling a card charge whose outcome is not known, by asking Stripe what happened.

Retrieve the PaymentIntent by id if the attempt has one, else list the customer's charges and
match ``attempt_id`` in their metadata. Only when Stripe has no trace of it, and the attempt is
older than ``settle_after`` (so a slow request cannot still land), is it concluded "not
charged". It never charges anything itself: it records what Stripe did.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from desk_app.models.card_attempts import ChargeAttempt
from desk_app.models.cards import StripeCustomer
from desk_app.models.enums import AttemptStatus
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_charge_outcomes import (
    NOT_FOUND_MESSAGE,
    UNKNOWN_MESSAGE,
    ChargeOutcome,
    attempt_outcome,
    decline_message,
)
from desk_app.services.card_charge_recording import ChargeRecorder
from desk_app.services.card_protocol import UNSETTLED
from desk_app.services.db import Database
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.stripe_gateway import ChargeInfo, GatewayError, GatewayErrorKind

log = logging.getLogger(__name__)


class ChargeReconciler:
    """Settles one unsettled charge attempt with Stripe (``CardPaymentService`` runs it)."""

    def __init__(self, db: Database, accounts: PaymentAccountService, recorder: ChargeRecorder,
                 settle_after: Callable[[], timedelta]) -> None:
        self.db = db
        self.accounts = accounts
        self.recorder = recorder
        self._settle_after = settle_after

    def reconcile_charge(self, actor: Actor | None, attempt_id: uuid.UUID) -> ChargeOutcome:
        with self.db.reading() as s:
            attempt = s.get_one(ChargeAttempt, attempt_id)
            if attempt.status not in UNSETTLED:
                return attempt_outcome(s, attempt)
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
                return self.recorder.record_intent(actor, attempt_id, intent, gateway)
            matches = [c for c in gateway.list_charges(customer_id or "")
                       if c.metadata.get("attempt_id") == str(attempt_id)] if customer_id else []
        except GatewayError as exc:
            if exc.kind is GatewayErrorKind.NOT_FOUND and intent_id:
                matches = []
            else:
                with self.db.reading() as s:
                    attempt = s.get_one(ChargeAttempt, attempt_id)
                    return attempt_outcome(s, attempt, UNKNOWN_MESSAGE + " (Stripe could not be "
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
            return self.recorder.record_success(actor, attempt_id, charge.payment_intent_id,
                                                charge.id)
        if any(c.status == "pending" for c in matches):
            return self.recorder.settle(actor, attempt_id, AttemptStatus.UNKNOWN, "processing",
                                        UNKNOWN_MESSAGE)
        failed = [c for c in matches if c.status == "failed"]
        if failed:
            code = failed[0].failure_code or "card_declined"
            return self.recorder.settle(actor, attempt_id, AttemptStatus.FAILED, code,
                                        decline_message(code))
        if age >= self._settle_after():
            return self.recorder.settle(actor, attempt_id, AttemptStatus.FAILED, "not_charged",
                                        NOT_FOUND_MESSAGE)
        # Too soon to be sure a slow request will not still land: keep checking.
        return self.recorder.outcome_now(attempt_id)

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
