"""Keeping central's sync bookkeeping bounded: the heartbeat and the prune.

**Heartbeat** (:func:`record_heartbeat`): on every sync cycle a workstation writes its pull
cursor (every change-log entry at or below it is applied on that desk) and when it last
pulled and pushed into ``sync_workstation``, in one short central transaction. A bootstrap
registers its starting cursor before it copies anything.

**Prune** (:func:`prune`): the horizon is the lowest cursor among the desks seen within the
retention (30 days); it is saved in ``sync_meta`` *before* anything is deleted, then
change-log entries at or below it go in small transactions (never the newest entry: a
workstation takes an empty or shorter log for a restored central). Push receipts older than
the retention go too (a receipt only guards a replay after a lost answer; a replay without it
changes nothing anyway: rows are upserted by id, merged against central's current values).
A desk silent for longer than the retention is retired: it is no longer waited for, and when
it comes back its cursor is below the horizon, so it is told to copy central again
(:func:`check_horizon`, like a new epoch: what it holds is queued for upload first).

The sync worker runs the prune at most once a day (:func:`prune_if_due`, claimed through
``sync_meta`` so two desks do not both run it); ``desk-app central prune --url ...`` runs it
by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from desk_app.models.sync import SyncMeta, SyncWorkstation
from desk_app.services.sync.changes import Cursor, EpochChanged

RETENTION = timedelta(days=30)
PRUNE_EVERY = timedelta(days=1)
DELETE_CHUNK = 10_000

HORIZON_KEY = "pruned_horizon"  # "txid:seq": entries at or below it may be gone
LAST_PRUNE_KEY = "last_prune_at"  # ISO time (central's clock) the last prune started
CENTRAL_NOW = text("SELECT now()")


class BehindHorizon(EpochChanged):
    """This desk's cursor is below what central has pruned: it must copy central again."""


@dataclass(frozen=True)
class PruneReport:
    horizon: Cursor
    change_log_deleted: int
    receipts_deleted: int
    retired: list[str]


def central_now(conn: Connection) -> datetime:
    value = conn.scalar(CENTRAL_NOW)
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


def record_heartbeat(conn: Connection, workstation: str, cursor: Cursor, *,
                     pulled: bool = False, pushed: bool = False) -> None:
    """Write this desk's cursor and times (central's clock) in the caller's transaction.

    The stored cursor never moves back, except by a new bootstrap (``pulled`` False and
    ``pushed`` False: a desk starting to copy central again registers where it starts)."""
    now = central_now(conn)
    values: dict[str, object] = {"workstation": workstation, "cursor_txid": cursor.txid,
                                 "cursor_seq": cursor.seq, "last_seen_at": now}
    update: dict[str, object] = {"cursor_txid": cursor.txid, "cursor_seq": cursor.seq,
                                 "last_seen_at": now}
    if pulled:
        values["last_pull_at"] = update["last_pull_at"] = now
    if pushed:
        values["last_push_at"] = update["last_push_at"] = now
    conn.execute(pg_insert(SyncWorkstation).values(**values).on_conflict_do_update(
        index_elements=["workstation"], set_=update))


def read_horizon(conn: Connection) -> Cursor:
    value = conn.scalar(select(SyncMeta.value).where(SyncMeta.key == HORIZON_KEY))
    return Cursor.parse(str(value or ""))


def check_horizon(conn: Connection, cursor: Cursor) -> None:
    """BehindHorizon if entries this desk still needs may have been pruned."""
    horizon = read_horizon(conn)
    if horizon != Cursor() and cursor < horizon:
        raise BehindHorizon(
            "This workstation has not synced for longer than the central database keeps "
            f"changes ({RETENTION.days} days); copying the central database again (what "
            "this workstation holds is uploaded first).")


def prune(engine: Engine, *, now: datetime | None = None,
          retention: timedelta = RETENTION) -> PruneReport:
    """Delete the change log below every live desk's cursor and receipts older than the
    retention, in short transactions. ``now``: central's clock unless given (tests)."""
    with engine.begin() as conn:
        moment = now or central_now(conn)
        since = moment - retention
        live = conn.execute(select(SyncWorkstation.cursor_txid, SyncWorkstation.cursor_seq)
                            .where(SyncWorkstation.last_seen_at >= since)).all()
        retired = list(conn.scalars(select(SyncWorkstation.workstation)
                                    .where(SyncWorkstation.last_seen_at < since)
                                    .order_by(SyncWorkstation.workstation)))
        old = read_horizon(conn)
        # No live desk: keep the horizon (nobody to wait for is no reason to drop the log).
        lowest = min((Cursor(int(t), int(s)) for t, s in live), default=old)
        horizon = max(lowest, old)
        conn.execute(pg_insert(SyncMeta).values(key=HORIZON_KEY, value=horizon.text())
                     .on_conflict_do_update(index_elements=["key"],
                                            set_={"value": horizon.text()}))
    log_deleted = _delete_in_chunks(engine, """
        DELETE FROM sync_change_log WHERE seq IN (
            SELECT seq FROM sync_change_log
            WHERE (txid, seq) <= (:txid, :seq)
              AND seq < (SELECT max(seq) FROM sync_change_log)
            LIMIT :chunk)""", {"txid": horizon.txid, "seq": horizon.seq})
    receipts_deleted = _delete_in_chunks(engine, """
        DELETE FROM sync_push_receipt WHERE batch_id IN (
            SELECT batch_id FROM sync_push_receipt WHERE pushed_at < :since LIMIT :chunk)""",
        {"since": since})
    return PruneReport(horizon, log_deleted, receipts_deleted, retired)


def _delete_in_chunks(engine: Engine, statement: str, params: dict[str, object]) -> int:
    total = 0
    while True:
        with engine.begin() as conn:
            gone = conn.execute(text(statement), {**params, "chunk": DELETE_CHUNK}).rowcount
        total += gone
        if gone < DELETE_CHUNK:
            return total


def prune_if_due(engine: Engine, every: timedelta = PRUNE_EVERY) -> PruneReport | None:
    """Prune if nobody did in the last ``every`` (a day); claims the run in ``sync_meta``."""
    with engine.begin() as conn:
        now = central_now(conn)
        conn.execute(pg_insert(SyncMeta).values(key=LAST_PRUNE_KEY, value="")
                     .on_conflict_do_nothing(index_elements=["key"]))
        last = conn.scalar(select(SyncMeta.value).where(SyncMeta.key == LAST_PRUNE_KEY)
                           .with_for_update())
        if last and datetime.fromisoformat(str(last)) > now - every:
            return None
        conn.execute(SyncMeta.__table__.update().where(  # type: ignore[attr-defined]
            SyncMeta.key == LAST_PRUNE_KEY).values(value=now.isoformat()))
    return prune(engine)
