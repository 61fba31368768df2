"""What a card charge came to, as the desk is told it: ``ChargeOutcome`` and its messages.

``attempt_outcome`` reads a charge attempt (and the payment it recorded) into an outcome; the
messages say what happened and what to do next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.billing import Allocation
from desk_app.models.card_attempts import ChargeAttempt
from desk_app.models.enums import AttemptStatus
from desk_app.models.money import format_money
from desk_app.services.card_protocol import UNSETTLED


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


def decline_message(code: str, decline_code: str = "") -> str:
    key = decline_code or code
    text = _DECLINE_MESSAGES.get(key) or _DECLINE_MESSAGES.get(code) or "The card was declined."
    if key == "expired_card":
        advice = "Add the patient's new card, or take another payment method."
    elif key == "processing_error":
        advice = "Try again in a moment."
    else:
        advice = "Ask the patient for another card or payment method."
    return f"{text} {NOT_CHARGED} {advice}"


def attempt_outcome(s: Session, attempt: ChargeAttempt, message: str = "") -> ChargeOutcome:
    """Where ``attempt`` stands, with what its payment applied; ``message`` overrides the
    one its status would give."""
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
