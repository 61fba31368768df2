"""Stripe payment accounts: Settings > Payment accounts (Full Access only).

A clinic takes card payments into one or more Stripe accounts (per practitioner, per location,
or one for everything); exactly one active account is primary and receives account-credit
top-ups. An account's secret key is checked with Stripe before it is kept, and it is kept only
in this computer's OS keyring (service ``front-desk-stripe``, username = the account's id):
never in the database, the config file, an audit event or a log line. Each workstation needs
the key in its own keyring; ``PaymentAccountRow.key_on_this_computer`` says whether it has it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desk_app.models.card_attempts import ChargeAttempt, RefundAttempt
from desk_app.models.cards import CardOnFile, PaymentAccount
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import AccountMode, AttemptStatus
from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import (
    Conflict,
    ExternalServiceError,
    NotFound,
    ValidationError,
)
from desk_app.services.permissions import Permission, require
from desk_app.services.secret_store import STRIPE_SERVICE, SecretStore, SecretStoreUnavailable
from desk_app.services.stripe_gateway import (
    GatewayError,
    GatewayErrorKind,
    GatewayFactory,
    PaymentGateway,
    account_mode_of_key,
)

log = logging.getLogger(__name__)

UNSETTLED = (AttemptStatus.PENDING, AttemptStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class PaymentAccountRow:
    id: uuid.UUID
    label: str
    mode: AccountMode
    is_primary: bool
    publishable_key: str
    practitioner_id: uuid.UUID | None
    practitioner_name: str
    location_id: uuid.UUID | None
    location_name: str
    key_on_this_computer: bool
    active: bool
    version: int

    @property
    def mode_label(self) -> str:
        """Shown plainly beside the account: 'Test mode (no real money)' or 'Live (real money)'."""
        return self.mode.label

    @property
    def serves(self) -> str:
        if self.practitioner_name:
            return self.practitioner_name
        if self.location_name:
            return self.location_name
        return "The whole clinic"


@dataclass(frozen=True, slots=True)
class PaymentAccountInput:
    """What Settings edits. ``secret_key`` None keeps the key already in the keyring."""

    label: str
    publishable_key: str
    secret_key: str | None = None
    practitioner_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class AccountCredentials:
    account_id: uuid.UUID
    label: str
    mode: AccountMode
    publishable_key: str


class PaymentAccountService:
    def __init__(self, db: Database, secrets: SecretStore, gateway_factory: GatewayFactory) -> None:
        self.db = db
        self.secrets = secrets
        self.gateway_factory = gateway_factory
        self._gateways: dict[uuid.UUID, tuple[str, PaymentGateway]] = {}
        self._gateways_lock = threading.Lock()

    # ----- reading -------------------------------------------------------------------------

    def list_accounts(
        self, actor: Actor, *, include_removed: bool = False
    ) -> list[PaymentAccountRow]:
        """The clinic's payment accounts, primary first. Anyone signed in may see the labels."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            query = select(PaymentAccount).where(PaymentAccount.clinic_id == actor.clinic_id)
            if not include_removed:
                query = query.where(PaymentAccount.removed_at.is_(None))
            accounts = list(
                s.scalars(query.order_by(PaymentAccount.is_primary.desc(), PaymentAccount.label))
            )
            staff = {sid: f"{fn} {ln}".strip() for sid, fn, ln in s.execute(
                select(Staff.id, Staff.first_name, Staff.last_name))}
            places: dict[uuid.UUID, str] = {lid: name for lid, name in s.execute(
                select(Location.id, Location.name))}
            return [self._row(a, staff, places) for a in accounts]

    def _row(self, a: PaymentAccount, staff: dict[uuid.UUID, str],
             places: dict[uuid.UUID, str]) -> PaymentAccountRow:
        return PaymentAccountRow(
            id=a.id,
            label=a.label,
            mode=a.mode,
            is_primary=a.is_primary,
            publishable_key=a.publishable_key,
            practitioner_id=a.practitioner_id,
            practitioner_name=staff.get(a.practitioner_id, "") if a.practitioner_id else "",
            location_id=a.location_id,
            location_name=places.get(a.location_id, "") if a.location_id else "",
            key_on_this_computer=self._has_secret(a.id),
            active=a.active,
            version=a.version,
        )

    def _has_secret(self, account_id: uuid.UUID) -> bool:
        try:
            return self.secrets.get(STRIPE_SERVICE, str(account_id)) is not None
        except SecretStoreUnavailable:
            return False

    # ----- writing -------------------------------------------------------------------------

    def add_account(
        self, actor: Actor, data: PaymentAccountInput, *, make_primary: bool = False
    ) -> PaymentAccountRow:
        """Check the keys with Stripe, keep the secret in the keyring, save the account.

        The clinic's first account becomes primary whatever ``make_primary`` says.
        """
        require(actor, Permission.MANAGE_CLINIC)
        if not data.secret_key:
            raise ValidationError("Paste the account's secret key (it starts with sk_).",
                                  "secret_key")
        label, mode = self._validate(data, data.secret_key)
        with self.db.reading() as s:
            self._check_serves(s, actor, data)
        self._check_with_stripe(data.secret_key)
        account_id = uuid.uuid4()
        self._store_secret(account_id, data.secret_key)
        try:
            with self.db.transaction() as s:
                self._lock_clinic(s, actor)
                has_primary = self._primary(s, actor.clinic_id) is not None
                primary = make_primary or not has_primary
                if primary:
                    self._clear_primary(s, actor.clinic_id)
                account = PaymentAccount(
                    id=account_id,
                    clinic_id=actor.clinic_id,
                    label=label,
                    practitioner_id=data.practitioner_id,
                    location_id=data.location_id,
                    is_primary=primary,
                    mode=mode,
                    publishable_key=data.publishable_key.strip(),
                )
                s.add(account)
                s.flush()
                audit.record(
                    s, actor, "payment_account.added", entity=account,
                    summary=f"Added payment account {label} ({mode.label})",
                    details={"label": label, "mode": mode.value, "primary": primary},
                )
        except BaseException:
            self._forget_secret(account_id)
            raise
        return self._one(actor, account_id)

    def update_account(
        self, actor: Actor, account_id: uuid.UUID, data: PaymentAccountInput, expected_version: int
    ) -> PaymentAccountRow:
        """Change the label, keys or whom the account serves. A new secret key is checked first.

        Switching between test and live mode is refused while cards are saved in the account:
        cards saved in test mode do not exist in live mode (add another account instead).
        """
        require(actor, Permission.MANAGE_CLINIC)
        with self.db.reading() as s:
            current_mode = self._get(s, actor, account_id).mode
            self._check_serves(s, actor, data)
        secret = data.secret_key or None
        label, mode = self._validate(data, secret, current_mode=current_mode)
        if secret:
            self._check_with_stripe(secret)
        with self.db.transaction() as s:
            account = self._get(s, actor, account_id)
            if account.version != expected_version:
                raise Conflict("Someone else changed this payment account; reopen it and retry.")
            if not account.active:
                raise Conflict("This payment account was removed.")
            if mode != account.mode:
                cards = self._active_cards(s, account.id)
                if cards:
                    raise ValidationError(
                        f"{cards} card(s) are saved in this account in {account.mode.value} "
                        f"mode; they cannot be charged in {mode.value} mode. Add a separate "
                        f"account for {mode.value} mode instead.",
                        "secret_key",
                    )
            before = {"label": account.label, "mode": account.mode.value}
            account.label = label
            account.mode = mode
            account.publishable_key = data.publishable_key.strip()
            account.practitioner_id = data.practitioner_id
            account.location_id = data.location_id
            if secret:
                self._store_secret(account.id, secret)
            audit.record(
                s, actor, "payment_account.updated", entity=account,
                summary=f"Updated payment account {label}",
                details={"before": before, "after": {"label": label, "mode": mode.value},
                         "secret_key_replaced": bool(secret)},
            )
        return self._one(actor, account_id)

    def make_primary(self, actor: Actor, account_id: uuid.UUID) -> PaymentAccountRow:
        """Make this the account that receives account-credit top-ups."""
        require(actor, Permission.MANAGE_CLINIC)
        with self.db.transaction() as s:
            self._lock_clinic(s, actor)
            account = self._get(s, actor, account_id)
            if not account.active:
                raise Conflict("A removed payment account cannot be primary.")
            if not account.is_primary:
                self._clear_primary(s, actor.clinic_id)
                account.is_primary = True
                audit.record(
                    s, actor, "payment_account.made_primary", entity=account,
                    summary=f"{account.label} is now the primary payment account",
                )
        return self._one(actor, account_id)

    def remove_account(self, actor: Actor, account_id: uuid.UUID) -> None:
        """Stop using an account: its key leaves the keyring; its history stays."""
        require(actor, Permission.MANAGE_CLINIC)
        with self.db.transaction() as s:
            self._lock_clinic(s, actor)
            account = self._get(s, actor, account_id)
            if not account.active:
                return
            others = s.scalar(
                select(func.count()).select_from(PaymentAccount).where(
                    PaymentAccount.clinic_id == actor.clinic_id,
                    PaymentAccount.removed_at.is_(None),
                    PaymentAccount.id != account.id,
                )
            ) or 0
            if account.is_primary and others:
                raise Conflict("Make another account primary before removing this one.")
            busy = (s.scalar(select(func.count()).select_from(ChargeAttempt).where(
                ChargeAttempt.payment_account_id == account.id,
                ChargeAttempt.status.in_(UNSETTLED))) or 0) + (
                s.scalar(select(func.count()).select_from(RefundAttempt).where(
                    RefundAttempt.payment_account_id == account.id,
                    RefundAttempt.status.in_(UNSETTLED))) or 0)
            if busy:
                raise Conflict(
                    "A card charge or refund in this account is still being checked with "
                    "Stripe. Remove the account once it is settled."
                )
            account.removed_at = self.db.clock.now()
            account.removed_by_id = actor.staff_id
            account.is_primary = False
            audit.record(
                s, actor, "payment_account.removed", entity=account,
                summary=f"Removed payment account {account.label}",
            )
        self._forget_secret(account_id)

    # ----- for the other card services -------------------------------------------------------

    def gateway_for(self, account_id: uuid.UUID) -> PaymentGateway:
        """The Stripe gateway of an account, with its key from this computer's keyring."""
        try:
            secret = self.secrets.get(STRIPE_SERVICE, str(account_id))
        except SecretStoreUnavailable as exc:
            raise ExternalServiceError(str(exc)) from None
        if not secret:
            raise ExternalServiceError(
                "This computer does not have the payment account's secret key. A Full Access "
                "user can enter it again in Settings > Payment accounts."
            )
        with self._gateways_lock:
            cached = self._gateways.get(account_id)
            if cached is not None and cached[0] == secret:
                return cached[1]
            gateway = self.gateway_factory(secret)
            self._gateways[account_id] = (secret, gateway)
            return gateway

    def credentials(self, s: Session, clinic_id: uuid.UUID,
                    account_id: uuid.UUID | None) -> AccountCredentials:
        """An active account of the clinic (the primary one when no id is given)."""
        if account_id is None:
            account = self._primary(s, clinic_id)
            if account is None:
                raise Conflict(
                    "No payment account is set up. A Full Access user can add one in "
                    "Settings > Payment accounts."
                )
        else:
            found = s.get(PaymentAccount, account_id)
            if found is None or found.clinic_id != clinic_id:
                raise NotFound("That payment account no longer exists.")
            account = found
        if not account.active:
            raise Conflict(f"The payment account {account.label} was removed.")
        return AccountCredentials(account.id, account.label, account.mode, account.publishable_key)

    @staticmethod
    def _primary(s: Session, clinic_id: uuid.UUID) -> PaymentAccount | None:
        return s.scalar(
            select(PaymentAccount).where(
                PaymentAccount.clinic_id == clinic_id,
                PaymentAccount.is_primary.is_(True),
                PaymentAccount.removed_at.is_(None),
            )
        )

    # ----- helpers -----------------------------------------------------------------------------

    def _one(self, actor: Actor, account_id: uuid.UUID) -> PaymentAccountRow:
        for row in self.list_accounts(actor, include_removed=True):
            if row.id == account_id:
                return row
        raise NotFound("That payment account no longer exists.")

    @staticmethod
    def _get(s: Session, actor: Actor, account_id: uuid.UUID) -> PaymentAccount:
        account = s.get(PaymentAccount, account_id)
        if account is None or account.clinic_id != actor.clinic_id:
            raise NotFound("That payment account no longer exists.")
        return account

    @staticmethod
    def _lock_clinic(s: Session, actor: Actor) -> None:
        # Serialises primary changes between desks on PostgreSQL.
        s.scalar(select(Clinic.id).where(Clinic.id == actor.clinic_id).with_for_update())

    @staticmethod
    def _clear_primary(s: Session, clinic_id: uuid.UUID) -> None:
        for other in s.scalars(
            select(PaymentAccount).where(
                PaymentAccount.clinic_id == clinic_id, PaymentAccount.is_primary.is_(True)
            )
        ):
            other.is_primary = False
        s.flush()

    @staticmethod
    def _active_cards(s: Session, account_id: uuid.UUID) -> int:
        return int(s.scalar(select(func.count()).select_from(CardOnFile).where(
            CardOnFile.payment_account_id == account_id, CardOnFile.removed_at.is_(None))) or 0)

    @staticmethod
    def _validate(data: PaymentAccountInput, secret: str | None,
                  current_mode: AccountMode | None = None) -> tuple[str, AccountMode]:
        label = " ".join(data.label.split())
        if not label:
            raise ValidationError("Give the account a name staff will recognise, such as "
                                  "'Downtown clinic' or the practitioner's name.", "label")
        if len(label) > 120:
            raise ValidationError("Keep the account's name to 120 characters.", "label")
        if data.practitioner_id is not None and data.location_id is not None:
            raise ValidationError("An account serves a practitioner or a location, not both.",
                                  "practitioner_id")
        if secret is not None:
            secret = secret.strip()
            found = account_mode_of_key(secret)
            if found is None or any(c.isspace() for c in secret):
                raise ValidationError(
                    "That is not a Stripe secret key: it starts with sk_test_ or sk_live_. "
                    "Copy it from the Stripe Dashboard > Developers > API keys.",
                    "secret_key",
                )
            mode = AccountMode(found)
        elif current_mode is not None:
            mode = current_mode
        else:
            raise ValidationError("Paste the account's secret key.", "secret_key")
        publishable = data.publishable_key.strip()
        expected = f"pk_{mode.value}_"
        if not publishable.startswith(expected) or len(publishable) <= len(expected):
            raise ValidationError(
                f"The publishable key must be the {mode.value}-mode one (it starts with "
                f"{expected}), from the same Stripe account as the secret key.",
                "publishable_key",
            )
        return label, mode

    @staticmethod
    def _check_serves(s: Session, actor: Actor, data: PaymentAccountInput) -> None:
        if data.practitioner_id is not None:
            staff = s.get(Staff, data.practitioner_id)
            if staff is None or staff.clinic_id != actor.clinic_id:
                raise ValidationError("That practitioner is not on this clinic's staff.",
                                      "practitioner_id")
        if data.location_id is not None:
            place = s.get(Location, data.location_id)
            if place is None or place.clinic_id != actor.clinic_id:
                raise ValidationError("That location is not one of this clinic's.",
                                      "location_id")

    def _check_with_stripe(self, secret: str) -> None:
        try:
            self.gateway_factory(secret.strip()).check_key()
        except GatewayError as exc:
            if exc.kind is GatewayErrorKind.BAD_KEY:
                raise ValidationError(
                    "Stripe refused this secret key. Copy it again from the Stripe Dashboard "
                    "> Developers > API keys (the secret key, not the publishable one).",
                    "secret_key",
                ) from None
            raise ExternalServiceError(
                "Stripe could not be reached to check the key, so nothing was saved. "
                "Check the internet connection and try again."
            ) from None

    def _store_secret(self, account_id: uuid.UUID, secret: str) -> None:
        try:
            self.secrets.set(STRIPE_SERVICE, str(account_id), secret.strip())
        except SecretStoreUnavailable as exc:
            raise ExternalServiceError(str(exc)) from None
        with self._gateways_lock:
            self._gateways.pop(account_id, None)

    def _forget_secret(self, account_id: uuid.UUID) -> None:
        with self._gateways_lock:
            self._gateways.pop(account_id, None)
        try:
            self.secrets.delete(STRIPE_SERVICE, str(account_id))
        except SecretStoreUnavailable:
            log.warning("could not delete the keyring entry of payment account %s", account_id)


def account_served_at(s: Session, clinic_id: uuid.UUID, *, practitioner_id: uuid.UUID | None,
                      location_id: uuid.UUID | None) -> uuid.UUID | None:
    """The account serving a practitioner, else a location, else the primary one (or None)."""
    base = select(PaymentAccount.id).where(
        PaymentAccount.clinic_id == clinic_id, PaymentAccount.removed_at.is_(None)
    )
    if practitioner_id is not None:
        found = s.scalar(base.where(PaymentAccount.practitioner_id == practitioner_id))
        if found is not None:
            return found
    if location_id is not None:
        found = s.scalar(base.where(PaymentAccount.location_id == location_id))
        if found is not None:
            return found
    return s.scalar(base.where(PaymentAccount.is_primary.is_(True)))

