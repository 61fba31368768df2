"""The tables of synchronisation (docs/SYNC.md).

Every sync table exists on both sides (one schema, one migration); each is used on one side:

- workstation only: ``sync_outbox`` (changes waiting to be pushed), ``sync_state`` (cursor,
  epoch, bootstrap progress);
- central only: ``sync_change_log`` (what changed, by which transaction), ``sync_push_receipt``
  (batches already applied, so a replayed batch changes nothing), ``sync_meta`` (the epoch,
  the pruned horizon), ``sync_workstation`` (each desk's heartbeat and cursor);
- synced like any other table: ``sync_conflict``, the log an admin reviews.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned

#: A bigint that is SQLite's rowid alias where it is a primary key (so it autoincrements).
ROW_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class SyncOutbox(Base):
    """One change to a synced row, written in the same transaction as the change.

    ``base`` holds, for an update, the changed fields' values before the change (JSON, the
    codec of services/sync/codec.py): central merges field by field against it.
    """

    __tablename__ = "sync_outbox"

    seq: Mapped[int] = mapped_column(ROW_SEQ, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(8))  # insert | update | delete | reupload
    base: Mapped[str] = mapped_column(Text, default="{}")
    # The batch this entry was claimed for; kept until central acknowledged it.
    batch_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_sync_outbox_row", "table_name", "row_key"),
        Index("ix_sync_outbox_batch", "batch_id"),
    )


class SyncState(Base):
    """The workstation's sync bookkeeping, as key/value text."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class SyncChangeLog(Base):
    """Central: one row per changed row, stamped with the writing transaction's id.

    ``txid`` is ``pg_current_xact_id()`` (xid8, as bigint). A puller only reads entries whose
    txid is below its snapshot's xmin, so an entry committed late is never skipped.
    """

    __tablename__ = "sync_change_log"

    seq: Mapped[int] = mapped_column(ROW_SEQ, primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_sync_change_log_txid_seq", "txid", "seq"),
        # Who last wrote a row (the conflict log names the desk whose value was kept).
        Index("ix_sync_change_log_row", "table_name", "row_key"),
    )


class SyncPushReceipt(Base):
    """Central: a batch already applied (its id is chosen by the workstation once)."""

    __tablename__ = "sync_push_receipt"

    batch_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workstation: Mapped[str] = mapped_column(String(32))
    pushed_at: Mapped[datetime]
    changes: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_sync_push_receipt_pushed_at", "pushed_at"),)


class SyncWorkstation(Base):
    """Central: a workstation's heartbeat, written on every sync cycle.

    Its pull cursor ``(cursor_txid, cursor_seq)``: every change-log entry at or below it has
    been applied on that desk. The prune (services/sync/pruning.py) keeps every entry above
    the lowest cursor of the desks seen within the retention; a desk silent for longer is
    retired and copies central again when it comes back. Times are central's clock (UTC).
    """

    __tablename__ = "sync_workstation"

    workstation: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor_txid: Mapped[int] = mapped_column(BigInteger)
    cursor_seq: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[datetime]
    last_pull_at: Mapped[datetime | None] = mapped_column(default=None)
    last_push_at: Mapped[datetime | None] = mapped_column(default=None)


class SyncMeta(Base):
    """Central: the epoch (a new one after a restore from backup) and other facts."""

    __tablename__ = "sync_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class SyncConflict(Versioned, Base):
    """A value that lost a merge, or a cross-desk rule broken: for an admin to review.

    kind "field": two desks changed the same field; ``kept_value`` stayed, ``lost_value`` is
    what ``lost_workstation`` had written. kind "review": a rule that spans desks (an
    over-applied payment, a package's last use redeemed twice) needs a person to look.
    kind "rejected": central refused a row (a unique rule); the row stays on its desk only.
    """

    __tablename__ = "sync_conflict"

    kind: Mapped[str] = mapped_column(String(16))
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(64), default="")
    kept_value: Mapped[str] = mapped_column(Text, default="")
    lost_value: Mapped[str] = mapped_column(Text, default="")
    kept_workstation: Mapped[str] = mapped_column(String(32), default="")
    lost_workstation: Mapped[str] = mapped_column(String(32), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)

    __table_args__ = (Index("ix_sync_conflict_reviewed", "reviewed_at"),)
