"""What the card charge and refund services share: attempt states, the lock, the report.

See ``card_payments`` for the exactly-once protocol these serve.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from desk_app.models.enums import AttemptStatus
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
