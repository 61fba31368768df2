"""Signing in at a workstation. Hardened further (idle lock, user switch) in the security issue."""

from __future__ import annotations

import logging
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from desk_app.models.staff import Staff
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import SignInFailed, ValidationError

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8

# argon2id with the library's recommended parameters (RFC 9106 low-memory profile).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"Choose a password of at least {MIN_PASSWORD} characters.", "password"
        )


def actor_for(staff: Staff, workstation: str) -> Actor:
    return Actor(
        staff_id=staff.id,
        clinic_id=staff.clinic_id,
        name=staff.full_name,
        role=staff.role,
        billing_permission=staff.billing_permission,
        workstation=workstation,
    )


class AuthService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def sign_in(self, username: str, password: str, workstation: str) -> Actor:
        """Check a username and password; the same message for an unknown user or a bad one.

        A failure is committed (counted and audited) before it is reported.
        """
        name = username.strip().lower()
        if not name or not password:
            raise SignInFailed("Enter your username and password.")
        mismatch = "That username and password do not match. Try again."
        failure: str | None = None
        actor: Actor | None = None
        with self.db.transaction() as s:
            staff = s.scalar(select(Staff).where(func.lower(Staff.username) == name))
            now = self.db.clock.now()
            if staff is None or not staff.active:
                _hasher.hash("timing-equaliser")
                audit.record(
                    s,
                    None,
                    "signin.failed",
                    workstation=workstation,
                    summary="Unknown or inactive username",
                )
                failure = mismatch
            elif staff.locked_until is not None and staff.locked_until > now:
                minutes = int((staff.locked_until - now).total_seconds() // 60) + 1
                failure = (
                    f"Too many failed attempts. Try again in {minutes} minutes, "
                    "or ask a Full Access user to unlock your account."
                )
            elif not _verify(staff.password_hash, password):
                staff.failed_sign_ins += 1
                if staff.failed_sign_ins >= MAX_FAILURES:
                    staff.locked_until = now + LOCKOUT
                    staff.failed_sign_ins = 0
                audit.record(
                    s,
                    None,
                    "signin.failed",
                    entity=staff,
                    workstation=workstation,
                    summary="Wrong password",
                )
                failure = mismatch
            else:
                if _hasher.check_needs_rehash(staff.password_hash):
                    staff.password_hash = hash_password(password)
                staff.failed_sign_ins = 0
                staff.locked_until = None
                actor = actor_for(staff, workstation)
                audit.record(s, actor, "signin", entity=staff, summary="Signed in")
        if failure is not None or actor is None:
            raise SignInFailed(failure or mismatch)
        return actor


    def unlock(self, actor: Actor, password: str) -> Actor:
        """The signed-in member's password again, at the lock screen: their session resumes.

        Counted like a sign-in (five failures lock the account) and audited either way.
        Returns the member as they are now (a role changed meanwhile shows from here on).
        """
        if not password:
            raise SignInFailed("Enter your password to unlock.")
        failure: str | None = None
        fresh: Actor | None = None
        with self.db.transaction() as s:
            staff = s.get(Staff, actor.staff_id)
            now = self.db.clock.now()
            if staff is None or not staff.active:
                failure = "Your account is no longer active. Sign out, and ask a Full Access user."
            elif staff.locked_until is not None and staff.locked_until > now:
                minutes = int((staff.locked_until - now).total_seconds() // 60) + 1
                failure = (
                    f"Too many failed attempts. Try again in {minutes} minutes, or switch user."
                )
            elif not _verify(staff.password_hash, password):
                staff.failed_sign_ins += 1
                if staff.failed_sign_ins >= MAX_FAILURES:
                    staff.locked_until = now + LOCKOUT
                    staff.failed_sign_ins = 0
                audit.record(s, actor, "signin.unlock_failed", entity=staff,
                             summary="Wrong password at the lock screen")
                failure = "That password is not right. Try again."
            else:
                staff.failed_sign_ins = 0
                fresh = actor_for(staff, actor.workstation)
                audit.record(s, fresh, "signin.unlocked", entity=staff, summary="Unlocked")
        if failure is not None or fresh is None:
            raise SignInFailed(failure or "That password is not right. Try again.")
        return fresh


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
