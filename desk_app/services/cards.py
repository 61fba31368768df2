"""Cards on file: list, add (through Stripe's own card form), remove.

A card is entered in Stripe's UI (Stripe.js / Elements with a SetupIntent, or Checkout in setup
mode on the patient's phone). Our process receives a PaymentMethod id and nothing else; from
Stripe we keep the brand, the last four digits and the expiry. Wallet payments (Apple Pay,
Google Pay) are never saved as cards. Patients cannot remove cards; staff with the Billing
permission can (the card is detached at Stripe too).

Adding a card at the desk::

    session = cards.begin_add_card(actor, patient_id)       # SetupIntent, for Stripe.js
    # ... the card form confirms session.client_secret with session.publishable_key ...
    card = cards.finish_add_card(actor, patient_id, session.payment_account_id,
                                 payment_method_id, setup_intent_id=session.setup_intent_id)
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk_app.models.card_attempts import ChargeAttempt
from desk_app.models.cards import CardOnFile, PaymentAccount, StripeCustomer
from desk_app.models.clinic import Clinic
from desk_app.models.enums import AccountMode, AttemptStatus, CollectedBy
from desk_app.models.patient import Patient
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_today
from desk_app.services.db import Database
from desk_app.services.errors import (
    Conflict,
    ExternalServiceError,
    NotFound,
    ValidationError,
)
from desk_app.services.patient_access import require_patient, require_patient_of
from desk_app.services.payment_accounts import PaymentAccountService
from desk_app.services.permissions import Permission, require
from desk_app.services.stripe_gateway import (
    CardDetails,
    GatewayError,
    GatewayErrorKind,
    PaymentGateway,
)

log = logging.getLogger(__name__)

STRIPE_JS_URL = "https://js.stripe.com/v3/"

_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "interac": "Interac",
}


def brand_label(brand: str) -> str:
    return _BRANDS.get(brand.lower(), brand.title() or "Card")


def card_expired(exp_month: int, exp_year: int, today: date) -> bool:
    """A card is good through the last day of its expiry month (in the clinic's time zone)."""
    return (today.year, today.month) > (exp_year, exp_month)


@dataclass(frozen=True, slots=True)
class CardRow:
    id: uuid.UUID
    patient_id: uuid.UUID
    payment_account_id: uuid.UUID
    account_label: str
    account_mode: AccountMode
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    expired: bool
    added_by: CollectedBy
    added_by_name: str  # the staff member, or "the patient"
    added_at: datetime
    removed_at: datetime | None
    removed_by_name: str
    version: int

    @property
    def brand_label(self) -> str:
        return brand_label(self.brand)

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"

    @property
    def label(self) -> str:
        """'Visa •••• 4242, expires 12/2030' (or 'expired 03/2025')."""
        word = "expired" if self.expired else "expires"
        return f"{self.brand_label} •••• {self.last4}, {word} {self.expiry}"


@dataclass(frozen=True, slots=True)
class AddCardSession:
    """What the card form needs: Stripe.js with the publishable key confirms the SetupIntent."""

    payment_account_id: uuid.UUID
    account_mode: AccountMode
    setup_intent_id: str
    client_secret: str
    publishable_key: str
    #: Where to load Stripe.js from: Stripe's own in production, localstripe's in tests.
    stripe_js_url: str
    #: The Stripe API base when it is not Stripe itself (tests), else None.
    api_base: str | None


class CardService:
    def __init__(self, db: Database, accounts: PaymentAccountService) -> None:
        self.db = db
        self.accounts = accounts

    # ----- reading -------------------------------------------------------------------------

    def list_cards(
        self, actor: Actor, patient_id: uuid.UUID, *, include_removed: bool = False
    ) -> list[CardRow]:
        """The patient's cards, newest first; expired ones flagged (clinic's time zone)."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            query = select(CardOnFile).where(CardOnFile.patient_id == patient_id)
            if not include_removed:
                query = query.where(CardOnFile.removed_at.is_(None))
            cards = list(s.scalars(query.order_by(CardOnFile.added_at.desc())))
            return self._rows(s, actor, cards)

    def card(self, actor: Actor, card_id: uuid.UUID) -> CardRow:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient_of(s, actor, CardOnFile, card_id)
            card = s.get(CardOnFile, card_id)
            if card is None:
                raise NotFound("That card is no longer on file.")
            return self._rows(s, actor, [card])[0]

    def _rows(self, s: Session, actor: Actor, cards: list[CardOnFile]) -> list[CardRow]:
        clinic = s.get_one(Clinic, actor.clinic_id)
        today = clinic_today(self.db.clock, clinic.time_zone)
        accounts = {a.id: a for a in s.scalars(
            select(PaymentAccount).where(PaymentAccount.clinic_id == actor.clinic_id))}
        staff = {sid: f"{fn} {ln}".strip() for sid, fn, ln in s.execute(
            select(Staff.id, Staff.first_name, Staff.last_name))}
        rows = []
        for c in cards:
            account = accounts.get(c.payment_account_id)
            rows.append(CardRow(
                id=c.id,
                patient_id=c.patient_id,
                payment_account_id=c.payment_account_id,
                account_label=account.label if account else "",
                account_mode=account.mode if account else AccountMode.TEST,
                brand=c.brand,
                last4=c.last4,
                exp_month=c.exp_month,
                exp_year=c.exp_year,
                expired=card_expired(c.exp_month, c.exp_year, today),
                added_by=c.added_by,
                added_by_name=("the patient" if c.added_by == CollectedBy.PATIENT
                               else staff.get(c.added_by_staff_id, "") if c.added_by_staff_id
                               else ""),
                added_at=c.added_at,
                removed_at=c.removed_at,
                removed_by_name=staff.get(c.removed_by_id, "") if c.removed_by_id else "",
                version=c.version,
            ))
        return rows

    # ----- adding ----------------------------------------------------------------------------

    def begin_add_card(
        self, actor: Actor, patient_id: uuid.UUID, payment_account_id: uuid.UUID | None = None
    ) -> AddCardSession:
        """Start adding a card: a SetupIntent for Stripe.js (the primary account by default).

        Makes the patient's Stripe customer in that account if there is none yet. Network:
        run it off the UI thread.
        """
        require(actor, Permission.TAKE_PAYMENT)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            self._patient(s, actor, patient_id)
            creds = self.accounts.credentials(s, actor.clinic_id, payment_account_id)
        gateway = self.accounts.gateway_for(creds.account_id)
        customer_id = self.ensure_customer(actor, patient_id, creds.account_id, gateway)
        try:
            intent = gateway.create_setup_intent(customer_id, {"patient_id": str(patient_id)})
        except GatewayError as exc:
            raise _stripe_refused(exc, "The card form could not be opened") from None
        base = gateway.api_base.rstrip("/") if gateway.api_base else None
        return AddCardSession(
            payment_account_id=creds.account_id,
            account_mode=creds.mode,
            setup_intent_id=intent.id,
            client_secret=intent.client_secret,
            publishable_key=creds.publishable_key,
            stripe_js_url=f"{base}/js.stripe.com/v3/" if base else STRIPE_JS_URL,
            api_base=base,
        )

    def finish_add_card(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        payment_account_id: uuid.UUID,
        payment_method_id: str,
        *,
        setup_intent_id: str | None = None,
        added_by: CollectedBy = CollectedBy.STAFF,
    ) -> CardRow:
        """Save the card Stripe's form produced (by its PaymentMethod id) on the patient's file.

        Stripe is asked for the brand, last four and expiry; the card is attached to the
        patient's customer if the form did not do it. Saving the same card twice is harmless.
        """
        require(actor, Permission.TAKE_PAYMENT)
        payment_method_id = payment_method_id.strip()
        if not payment_method_id.startswith(("pm_", "card_")):
            raise ValidationError("That is not a Stripe card (PaymentMethod) id.")
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            self._patient(s, actor, patient_id)
            creds = self.accounts.credentials(s, actor.clinic_id, payment_account_id)
            customer_id = s.scalar(select(StripeCustomer.stripe_customer_id).where(
                StripeCustomer.patient_id == patient_id,
                StripeCustomer.payment_account_id == creds.account_id))
            existing = s.scalar(select(CardOnFile).where(
                CardOnFile.stripe_payment_method_id == payment_method_id))
            if existing is not None:
                if existing.patient_id != patient_id:
                    raise Conflict("This card is saved on another patient's file.")
                if existing.removed_at is not None:
                    raise Conflict("This card was removed from the file. Enter it again to "
                                   "save it anew.")
                return self._rows(s, actor, [existing])[0]
        if customer_id is None:
            raise Conflict("Start adding the card again: the patient has no Stripe customer "
                           "in this account yet.")
        gateway = self.accounts.gateway_for(creds.account_id)
        try:
            if setup_intent_id:
                intent = gateway.retrieve_setup_intent(setup_intent_id)
                if intent.payment_method_id not in (None, payment_method_id):
                    raise ValidationError("The card form returned a different card than the "
                                          "one it set up; start again.")
                if intent.status == "requires_action":
                    raise ValidationError(
                        "The card's bank asked the cardholder to confirm the card, and that "
                        "was not finished. Nothing was saved; try the card form again."
                    )
                if intent.status in ("canceled", "requires_payment_method"):
                    raise ValidationError("The card was not set up (it may have been "
                                          "declined). Nothing was saved.")
            details = gateway.retrieve_payment_method(payment_method_id)
            if details.wallet:
                raise ValidationError(
                    "Wallet payments (Apple Pay, Google Pay) are not kept on file. Nothing was "
                    "saved; enter the card itself to keep it on file."
                )
            if details.customer_id is None:
                details = gateway.attach_payment_method(payment_method_id, customer_id)
            elif details.customer_id != customer_id:
                raise Conflict("This card belongs to another Stripe customer; nothing was saved.")
        except GatewayError as exc:
            raise _stripe_refused(exc, "The card was not saved") from None
        return self._save(actor, patient_id, creds.account_id, details, added_by)

    def _save(self, actor: Actor, patient_id: uuid.UUID, account_id: uuid.UUID,
              details: CardDetails, added_by: CollectedBy) -> CardRow:
        try:
            with self.db.transaction() as s:
                card = CardOnFile(
                    patient_id=patient_id,
                    payment_account_id=account_id,
                    stripe_payment_method_id=details.payment_method_id,
                    brand=details.brand[:32],
                    last4=details.last4[-4:],
                    exp_month=details.exp_month,
                    exp_year=details.exp_year,
                    added_by=added_by,
                    added_by_staff_id=actor.staff_id if added_by == CollectedBy.STAFF else None,
                    added_at=self.db.clock.now(),
                )
                s.add(card)
                s.flush()
                audit.record(
                    s, actor, "card.added", entity=card, patient_id=patient_id,
                    summary="Card added to file",
                    details={"card": str(card.id), "payment_account": str(account_id),
                             "added_by": added_by.value},
                )
                row = self._rows(s, actor, [card])[0]
        except IntegrityError:
            # Saved by another desk a moment ago: the same card, once.
            with self.db.reading() as s:
                card_again = s.scalar(select(CardOnFile).where(
                    CardOnFile.stripe_payment_method_id == details.payment_method_id))
                if card_again is None:
                    raise
                return self._rows(s, actor, [card_again])[0]
        return row

    def ensure_customer(self, actor: Actor, patient_id: uuid.UUID, account_id: uuid.UUID,
                        gateway: PaymentGateway) -> str:
        """The patient's Stripe customer id in an account, made at Stripe the first time."""
        with self.db.reading() as s:
            found = s.scalar(select(StripeCustomer.stripe_customer_id).where(
                StripeCustomer.patient_id == patient_id,
                StripeCustomer.payment_account_id == account_id))
            if found:
                return found
            patient = self._patient(s, actor, patient_id)
            name = patient.legal_name
        try:
            customer_id = gateway.create_customer(
                name, {"patient_id": str(patient_id)},
                idempotency_key=f"fd-cus-{patient_id.hex}-{account_id.hex}",
            )
        except GatewayError as exc:
            raise _stripe_refused(exc, "The patient could not be set up at Stripe") from None
        try:
            with self.db.transaction() as s:
                s.add(StripeCustomer(patient_id=patient_id, payment_account_id=account_id,
                                     stripe_customer_id=customer_id))
        except IntegrityError:
            with self.db.reading() as s:
                return s.scalars(select(StripeCustomer.stripe_customer_id).where(
                    StripeCustomer.patient_id == patient_id,
                    StripeCustomer.payment_account_id == account_id)).one()
        return customer_id

    # ----- removing ----------------------------------------------------------------------------

    def remove_card(self, actor: Actor, card_id: uuid.UUID) -> None:
        """Take a card off the patient's file and detach it at Stripe (Billing permission)."""
        require(actor, Permission.MANAGE_CARDS)
        with self.db.reading() as s:
            require_patient_of(s, actor, CardOnFile, card_id)
            card = s.get(CardOnFile, card_id)
            if card is None:
                raise NotFound("That card is no longer on file.")
            self._patient(s, actor, card.patient_id)
            if card.removed_at is not None:
                raise Conflict("This card was already removed.")
            busy = s.scalar(select(func.count()).select_from(ChargeAttempt).where(
                ChargeAttempt.card_id == card.id,
                ChargeAttempt.status.in_((AttemptStatus.PENDING, AttemptStatus.UNKNOWN))))
            if busy:
                raise Conflict("A charge on this card is still being checked with Stripe. "
                               "Remove the card once it is settled.")
            account_id, pm_id = card.payment_account_id, card.stripe_payment_method_id
        gateway = self.accounts.gateway_for(account_id)
        try:
            details = gateway.retrieve_payment_method(pm_id)
            if details.customer_id is not None:
                gateway.detach_payment_method(pm_id)
        except GatewayError as exc:
            if exc.kind is not GatewayErrorKind.NOT_FOUND:
                raise _stripe_refused(exc, "The card was not removed") from None
        with self.db.transaction() as s:
            card = s.get_one(CardOnFile, card_id)
            if card.removed_at is not None:
                return
            card.removed_at = self.db.clock.now()
            card.removed_by_id = actor.staff_id
            audit.record(
                s, actor, "card.removed", entity=card, patient_id=card.patient_id,
                summary="Card removed from file (detached at Stripe)",
                details={"card": str(card.id)},
            )

    # ----- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _patient(s: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
        patient = s.get(Patient, patient_id)
        if patient is None or patient.clinic_id != actor.clinic_id:
            raise NotFound("That patient no longer exists.")
        return patient


def _stripe_refused(exc: GatewayError, what: str) -> Exception:
    """A refusal the desk can act on, from a Stripe error during a card (not money) action."""
    if exc.kind is GatewayErrorKind.DECLINED:
        return ValidationError(f"{what}: the card was declined ({exc.message}). Ask for "
                               "another card.")
    if exc.kind is GatewayErrorKind.AUTHENTICATION_REQUIRED:
        return ValidationError(f"{what}: the card's bank wants the cardholder to confirm it. "
                               "Use the card form again with the patient present.")
    if exc.kind in (GatewayErrorKind.NOT_SENT, GatewayErrorKind.UNKNOWN_OUTCOME,
                    GatewayErrorKind.RATE_LIMITED):
        return ExternalServiceError(f"{what}: Stripe could not be reached. Check the internet "
                                    "connection and try again.")
    if exc.kind is GatewayErrorKind.BAD_KEY:
        return ExternalServiceError(f"{what}: Stripe refused the payment account's key. A Full "
                                    "Access user can update it in Settings > Payment accounts.")
    return ValidationError(f"{what}: Stripe refused it ({exc.message}).")
