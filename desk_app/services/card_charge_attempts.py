"""Step 1 of a card charge: the attempt, committed with its idempotency key before Stripe is
called, with the patient and the invoices locked, and what it means to pay.

Refused if another attempt of the patient is pending or unknown: nothing can be charged twice
while a charge is unsettled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.billing import Invoice
from desk_app.models.card_attempts import ChargeAttempt, ChargeAttemptInvoice
from desk_app.models.cards import CardOnFile, PaymentAccount, StripeCustomer
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AttemptPurpose, AttemptStatus, CollectedBy
from desk_app.models.money import format_money
from desk_app.models.patient import Patient
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.card_protocol import UNSETTLED
from desk_app.services.cards import card_expired
from desk_app.services.charge_targets import ChargeTarget, plan_charge
from desk_app.services.clock import Clock, clinic_today, to_clinic_time
from desk_app.services.errors import Conflict, NotFound, ValidationError


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """What the desk asked to charge, under the idempotency key of its request."""

    patient_id: uuid.UUID
    card_id: uuid.UUID
    target: ChargeTarget
    purpose: AttemptPurpose
    location_id: uuid.UUID | None
    key: str


@dataclass(frozen=True, slots=True)
class AttemptRef:
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


def attempt_id_by_key(s: Session, key: str) -> uuid.UUID | None:
    return s.scalar(select(ChargeAttempt.id).where(ChargeAttempt.idempotency_key == key))


def create_attempt_in(
    s: Session, clock: Clock, actor: Actor, request: ChargeRequest
) -> AttemptRef | uuid.UUID:
    """The attempt, or the id of the one its key already made (the same request again)."""
    patient_id, location_id, key = request.patient_id, request.location_id, request.key
    # Lock order everywhere: patient, then invoices by id.
    patient = s.scalar(select(Patient).where(Patient.id == patient_id).with_for_update())
    if patient is None or patient.clinic_id != actor.clinic_id:
        raise NotFound("That patient no longer exists.")
    same = attempt_id_by_key(s, key)
    if same is not None:
        return same
    clinic = s.get_one(Clinic, actor.clinic_id)
    refuse_if_unsettled(s, patient_id, clinic)
    card = s.get(CardOnFile, request.card_id)
    if card is None or card.patient_id != patient_id:
        raise NotFound("That card is not on this patient's file.")
    if card.removed_at is not None:
        raise Conflict("That card was removed from the patient's file.")
    account = s.get_one(PaymentAccount, card.payment_account_id)
    if not account.active:
        raise Conflict(f"The card is saved in the payment account {account.label}, which "
                       "was removed. Add the card again.")
    today = clinic_today(clock, clinic.time_zone)
    if card_expired(card.exp_month, card.exp_year, today):
        raise ValidationError(
            f"This card expired at the end of {card.exp_month:02d}/{card.exp_year}. Add "
            "the patient's new card, or take another payment method.")
    if request.purpose is AttemptPurpose.TOP_UP and not account.is_primary:
        raise ValidationError(
            f"Account credit goes to the primary payment account, and this card is "
            f"saved in {account.label}. Add the card to the primary account (or use "
            "another card) to top up credit.")
    customer = s.scalar(select(StripeCustomer.stripe_customer_id).where(
        StripeCustomer.patient_id == patient_id,
        StripeCustomer.payment_account_id == account.id))
    if customer is None:
        raise Conflict("This card's Stripe customer is missing; add the card again.")
    amount, parts = plan_charge(s, patient_id, request.target, clinic.currency, lock=True)
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
        purpose=request.purpose,
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
        details={"amount": amount, "purpose": request.purpose.value, "card": str(card.id),
                 "invoices": {str(i): c for i, c in parts}},
    )
    return AttemptRef(attempt.id, patient_id, account.id, amount, clinic.currency, key,
                      customer, card.stripe_payment_method_id, request.purpose)


def refuse_if_unsettled(s: Session, patient_id: uuid.UUID, clinic: Clinic) -> None:
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
