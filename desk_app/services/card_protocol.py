"""What the card charge and refund services share: attempt states, the lock, the report.

See ``card_payments`` for the exactly-once protocol these serve.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk_app.models.card_attempts import ChargeAttempt, RefundAttempt
from desk_app.models.enums import AttemptStatus
from desk_app.services.clock import Clock
from desk_app.services.db import Database

UNSETTLED = (AttemptStatus.PENDING, AttemptStatus.UNKNOWN)
#: How long after an attempt was sent Stripe's silence may be taken as "nothing happened":
#: longer than the gateway timeout, so a slow request cannot still land after the verdict.
DEFAULT_SETTLE_AFTER = timedelta(seconds=60)

# SQLite has no row locks: one lock per database file serialises creating and recording
# attempts between the threads of this process (two windows, a double-click). On PostgreSQL the
# rows are locked FOR UPDATE, which also holds between processes and workstations, so each
# service only serialises its own calls.
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def db_lock(db: Database) -> threading.Lock:
    if db.dialect != "sqlite":
        return threading.Lock()
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(db.url, threading.Lock())


@dataclass(frozen=True, slots=True)
class UnsettledAttempt:
    """A charge or refund still being checked, for a banner on the patient's profile."""

    attempt_id: uuid.UUID
    kind: Literal["charge", "refund"]
    status: AttemptStatus
    amount_cents: int
    created_at: datetime
    created_by_name: str
    workstation: str


@dataclass
class ReconcileReport:
    """What ``reconcile_unknown`` found: attempt ids by their new state, and what failed."""

    checked: int = 0
    succeeded: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    still_unsettled: list[uuid.UUID] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def tally(self, attempt_id: uuid.UUID, status: AttemptStatus) -> None:
        self.checked += 1
        if status is AttemptStatus.SUCCEEDED:
            self.succeeded.append(attempt_id)
        elif status in UNSETTLED:
            self.still_unsettled.append(attempt_id)
        else:
            self.failed.append(attempt_id)

    def problem(self, attempt_id: uuid.UUID, message: str) -> None:
        self.checked += 1
        self.still_unsettled.append(attempt_id)
        self.problems.append(message)


# ----- what charge and refund attempts go through alike ---------------------------------------

T = TypeVar("T")


def unsettled_attempt_ids(
    model: type[ChargeAttempt] | type[RefundAttempt],
    clinic_id: uuid.UUID | None,
    patient_id: uuid.UUID | None,
) -> Select[uuid.UUID]:
    """The ids of ``model``'s pending or unknown attempts, of one clinic and patient if given."""
    query = select(model.id).where(model.status.in_(UNSETTLED))
    if clinic_id is not None:
        query = query.where(model.clinic_id == clinic_id)
    if patient_id is not None:
        query = query.where(model.patient_id == patient_id)
    return query


def record_once(
    db: Database,
    lock: threading.Lock,
    record: Callable[[Session], T],
    read_back: Callable[[Session], T],
) -> T:
    """Write what Stripe did in one locked transaction; if another desk wrote it at the same
    moment (a unique Stripe id clashed), try again, and in the end read what it wrote."""
    for _try in range(2):
        try:
            with lock, db.transaction() as s:
                return record(s)
        except IntegrityError:
            continue
    with db.reading() as s:
        return read_back(s)


def mark_attempt(
    attempt: ChargeAttempt | RefundAttempt,
    status: AttemptStatus,
    code: str,
    message: str,
    clock: Clock,
) -> None:
    """Give an attempt a status other than succeeded, with why; settled unless unknown."""
    attempt.status = status
    attempt.failure_code = code[:64]
    attempt.failure_message = message
    if status not in UNSETTLED:
        attempt.settled_at = clock.now()
