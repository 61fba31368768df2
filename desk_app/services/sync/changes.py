"""What travels between a workstation and central: changed rows and pulled batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SyncError(RuntimeError):
    """Sync cannot go on; the message says what to do (shown in the status bar)."""


class SchemaMismatch(SyncError):
    """The workstation's schema differs from central's: one of them must be updated."""


class EpochChanged(SyncError):
    """Central was restored from a backup (or re-created): the workstation must re-sync."""


@dataclass
class RowChange:
    """One row's change as pushed: its current values (None once deleted) and, for the
    fields this desk changed, their values before its first change (encoded)."""

    table: str
    key: str
    op: str  # insert | update | delete | reupload
    row: dict[str, Any] | None
    base: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in central's change log: (transaction id, sequence)."""

    txid: int = 0
    seq: int = 0

    def text(self) -> str:
        return f"{self.txid}:{self.seq}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        if not text:
            return cls()
        txid, seq = text.split(":")
        return cls(int(txid), int(seq))


@dataclass
class PulledBatch:
    """Rows changed on central since a cursor: their current values, or gone (deleted)."""

    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, set[str]] = field(default_factory=dict)
    cursor: Cursor = Cursor()
    entries: int = 0
    caught_up: bool = True

    @property
    def row_count(self) -> int:
        return sum(len(r) for r in self.rows.values()) + sum(len(d) for d in self.deleted.values())


@dataclass
class PushOutcome:
    replayed: bool = False  # central had applied this batch already: nothing changed
    applied: int = 0  # rows inserted, updated or deleted on central
    conflicts: int = 0  # values that lost a merge, rules flagged, rows refused
    rejected: list[tuple[str, str]] = field(default_factory=list)
