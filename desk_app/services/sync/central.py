"""Central's side of sync, run by a workstation inside SHORT central transactions.

Push (:func:`apply_push`): one transaction per batch. A batch id already in
``sync_push_receipt`` changes nothing (a replay after a lost answer). A row central lacks is
inserted; a ledger row it has is left alone (ledger rows never conflict); a mutable row is
merged field by field: a field this desk changed is taken if central still holds the value the
desk started from (its base); if central holds something else, another desk got there first:
central keeps its value and the pushed one goes to the conflict log. So the winner is decided
by the order central applies pushes (its own commit order), never by workstation clocks.
Every row changed (and every row that had a conflict, so the loser pulls the winner) gets an
entry in ``sync_change_log`` stamped with ``pg_current_xact_id()``.

Pull (:func:`read_changes`): entries after the cursor whose transaction id is below the
snapshot's xmin: every transaction below xmin has ended, so no entry can later appear below
the cursor (a transaction that started earlier but committed late is simply not read yet).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, text, tuple_
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from desk_app.models.sync import SyncChangeLog, SyncConflict, SyncMeta, SyncPushReceipt
from desk_app.services.db import HEAD_REVISION
from desk_app.services.sync import checks, package_checks  # noqa: F401  (registers its rules)
from desk_app.services.sync.changes import (
    Cursor,
    EpochChanged,
    PulledBatch,
    PushOutcome,
    RowChange,
    SchemaMismatch,
)
from desk_app.services.sync.codec import decode_value, same_value, shown
from desk_app.services.sync.tables import (
    BOOKKEEPING,
    append_only_tables,
    chunks,
    key_filter,
    row_key,
    synced_table,
    synced_tables,
)

CURRENT_TXID = "pg_current_xact_id()::text::bigint"
SNAPSHOT_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
CHANGE_LOG: Table = SyncChangeLog.__table__  # type: ignore[assignment]
CONFLICT: Table = SyncConflict.__table__  # type: ignore[assignment]


# -- schema and epoch -------------------------------------------------------------------------


def check_schema(conn: Connection) -> None:
    """Refuse to sync unless central's schema is the one this workstation was built for."""
    revisions = [r for (r,) in conn.execute(text("SELECT version_num FROM alembic_version"))]
    if revisions == [HEAD_REVISION]:
        return
    central = ", ".join(revisions) or "none"
    from alembic.script import ScriptDirectory

    from desk_app.services.db import alembic_config

    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revisions and all(r in known for r in revisions):
        raise SchemaMismatch(
            f"The central database is at schema {central}, older than this workstation's "
            f"{HEAD_REVISION}. Ask your IT person to update it (desk-app migrate --url ...); "
            "sync waits until then.")
    raise SchemaMismatch(
        f"The central database is at schema {central}, newer than this workstation's "
        f"{HEAD_REVISION}. Update Front Desk on this workstation; sync waits until then.")


def read_epoch(conn: Connection) -> str:
    return str(conn.scalar(select(SyncMeta.value).where(SyncMeta.key == "epoch")) or "")


def ensure_epoch(conn: Connection) -> str:
    """Central's epoch, made on first use (a write: not in a read-only transaction)."""
    epoch = read_epoch(conn)
    if epoch:
        return epoch
    conn.execute(pg_insert(SyncMeta).values(key="epoch", value=str(uuid.uuid4()))
                 .on_conflict_do_nothing(index_elements=["key"]))
    return str(conn.scalar(select(SyncMeta.value).where(SyncMeta.key == "epoch")))


def new_epoch(conn: Connection) -> str:
    """After restoring central from a backup: every workstation re-syncs."""
    epoch = str(uuid.uuid4())
    conn.execute(pg_insert(SyncMeta).values(key="epoch", value=epoch)
                 .on_conflict_do_update(index_elements=["key"], set_={"value": epoch}))
    return epoch


def check_epoch(conn: Connection, known_epoch: str, cursor: Cursor) -> str:
    """Central's epoch; EpochChanged if it is not the one this workstation synced with, or if
    central's change log ends before this workstation's cursor (restored without a new epoch)."""
    epoch = read_epoch(conn)
    if known_epoch and epoch != known_epoch:
        raise EpochChanged("The central database was restored or replaced; re-syncing.")
    if cursor.seq:
        last = conn.scalar(select(SyncChangeLog.seq).order_by(SyncChangeLog.seq.desc()).limit(1))
        if last is None or last < cursor.seq:
            raise EpochChanged("The central database is behind this workstation (restored from "
                               "a backup?); re-syncing.")
    return epoch


# -- push -------------------------------------------------------------------------------------


class _Push:
    def __init__(self, conn: Connection, workstation: str, now: datetime) -> None:
        self.conn = conn
        self.workstation = workstation
        self.now = now
        self.logged: list[dict[str, str]] = []
        self.touched: dict[str, set[str]] = defaultdict(set)
        self.outcome = PushOutcome()

    def log(self, table: str, key: str, origin: str | None = None) -> None:
        self.logged.append({"table_name": table, "row_key": key,
                            "origin": origin or self.workstation})

    def conflict(self, *, kind: str, table: str, key: str, field: str = "", kept: Any = None,
                 lost: Any = None, kept_by: str = "", summary: str = "") -> None:
        conflict_id = uuid.uuid4()
        self.conn.execute(insert(CONFLICT).values(
            id=conflict_id, created_at=self.now, updated_at=self.now, version=1, kind=kind,
            table_name=table, row_key=key, field=field, kept_value=shown(kept),
            lost_value=shown(lost), kept_workstation=kept_by,
            lost_workstation=self.workstation if kind != "review" else "",
            summary=summary, reviewed_at=None, reviewed_by_id=None))
        self.log("sync_conflict", str(conflict_id), origin="central")
        self.outcome.conflicts += 1

    def last_writer(self, table: str, key: str) -> str:
        origin = self.conn.scalar(
            select(SyncChangeLog.origin)
            .where(SyncChangeLog.table_name == table, SyncChangeLog.row_key == key)
            .order_by(SyncChangeLog.seq.desc()).limit(1))
        return origin or ""

    def upserts(self, table: Table, changes: list[RowChange]) -> None:
        pk = list(table.primary_key.columns)
        if table.name in append_only_tables() and len(pk) == 1:
            # Ledger rows never conflict: central inserts the ones it lacks and leaves the
            # rest alone; only their keys are read (one array), nothing is locked.
            keys = [change.row[pk[0].name] for change in changes if change.row is not None]
            have = {str(k) for (k,) in self.conn.execute(
                text(f'SELECT "{pk[0].name}" FROM "{table.name}" '
                     f'WHERE "{pk[0].name}" = ANY(:keys)'), {"keys": keys})}
            self.insert_rows(table, [c for c in changes if c.key not in have])
            return
        existing: dict[str, Any] = {}
        for part in chunks([c.key for c in changes]):
            for row in self.conn.execute(
                    select(table).where(key_filter(table, part)).with_for_update()):
                existing[row_key(table, row._mapping)] = row._mapping
        new_rows: list[RowChange] = []
        for change in changes:
            current = existing.get(change.key)
            if current is None:
                new_rows.append(change)
            elif table.name not in append_only_tables():
                self.merge(table, change, current)
        self.insert_rows(table, new_rows)

    def insert_rows(self, table: Table, changes: list[RowChange]) -> None:
        if not changes:
            return
        pk = list(table.primary_key.columns)
        statement = pg_insert(table).on_conflict_do_nothing(index_elements=[c.name for c in pk])
        try:
            with self.conn.begin_nested():
                self.conn.execute(statement, [c.row for c in changes if c.row is not None])
        except IntegrityError:
            # One of them breaks a rule central keeps (a unique Stripe id recorded on two
            # desks, ...): insert one by one and refuse only the offenders, visibly.
            for change in changes:
                try:
                    with self.conn.begin_nested():
                        self.conn.execute(statement, [change.row or {}])
                except IntegrityError as exc:
                    self.reject(table, change, exc)
                    continue
                self.applied(table.name, change.key)
            return
        for change in changes:
            self.applied(table.name, change.key)

    def reject(self, table: Table, change: RowChange, exc: IntegrityError) -> None:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        self.conflict(kind="rejected", table=table.name, key=change.key,
                      lost=json.dumps({k: shown(v) for k, v in (change.row or {}).items()}),
                      summary=f"Central refused this row: {reason}")
        self.outcome.rejected.append((table.name, change.key))

    def applied(self, table: str, key: str) -> None:
        self.log(table, key)
        self.touched[table].add(key)
        self.outcome.applied += 1

    def merge(self, table: Table, change: RowChange, current: Any) -> None:
        assert change.row is not None
        values: dict[str, Any] = {}
        had_conflict = False
        for column in table.columns:
            name = column.name
            if name in BOOKKEEPING or column.primary_key or name not in change.row:
                continue
            new, now_central = change.row[name], current[name]
            if same_value(new, now_central) or name not in change.base:
                continue  # equal already, or a field this desk did not change
            if same_value(now_central, decode_value(column, change.base[name])):
                values[name] = new
            else:
                had_conflict = True
                self.conflict(kind="field", table=table.name, key=change.key, field=name,
                              kept=now_central, lost=new,
                              kept_by=self.last_writer(table.name, change.key),
                              summary="Both desks changed it; the first to reach central "
                                      "was kept.")
        if values:
            if "version" in table.c:
                values["version"] = int(current["version"]) + 1
            if "updated_at" in table.c:
                values["updated_at"] = max(current["updated_at"], change.row["updated_at"])
            self.conn.execute(sql_update(table).where(key_filter(table, [change.key]))
                              .values(**values))
            self.applied(table.name, change.key)
        elif had_conflict:
            self.log(table.name, change.key)  # so the losing desk pulls the kept value

    def delete(self, table: Table, change: RowChange) -> None:
        try:
            with self.conn.begin_nested():
                gone = self.conn.execute(delete(table).where(key_filter(table, [change.key])))
        except IntegrityError as exc:
            self.reject(table, change, exc)
            return
        if gone.rowcount:
            self.applied(table.name, change.key)

    def finish(self) -> None:
        """The change-log entries, in one statement (arrays unnested in order)."""
        if not self.logged:
            return
        self.conn.execute(text(
            "INSERT INTO sync_change_log (txid, table_name, row_key, origin) "
            f"SELECT {CURRENT_TXID}, t, k, o FROM unnest("
            "CAST(:tables AS text[]), CAST(:keys AS text[]), CAST(:origins AS text[])) "
            "WITH ORDINALITY AS u(t, k, o, n) ORDER BY n"),
            {"tables": [e["table_name"] for e in self.logged],
             "keys": [e["row_key"] for e in self.logged],
             "origins": [e["origin"] for e in self.logged]})


def apply_push(conn: Connection, batch_id: uuid.UUID, workstation: str,
               changes: Iterable[RowChange], now: datetime) -> PushOutcome:
    """Apply one batch in the caller's (short) central transaction."""
    done = conn.execute(pg_insert(SyncPushReceipt).values(
        batch_id=batch_id, workstation=workstation, pushed_at=now, changes=0)
        .on_conflict_do_nothing(index_elements=["batch_id"])
        .returning(SyncPushReceipt.batch_id)).first()
    if done is None:
        return PushOutcome(replayed=True)
    push = _Push(conn, workstation, now)
    by_table: dict[str, list[RowChange]] = defaultdict(list)
    for change in changes:
        by_table[change.table].append(change)
    for table in synced_tables():
        live = [c for c in by_table.get(table.name, ()) if c.row is not None]
        if live:
            push.upserts(table, live)
    for table in reversed(synced_tables()):
        for change in by_table.get(table.name, ()):
            if change.row is None:
                push.delete(table, change)
    for check in checks.CROSS_DESK_CHECKS:
        for flag in check(conn, push.touched):
            push.conflict(kind="review", table=flag.table, key=flag.key, summary=flag.summary)
    push.finish()
    conn.execute(sql_update(SyncPushReceipt).where(SyncPushReceipt.batch_id == batch_id)
                 .values(changes=push.outcome.applied))
    return push.outcome


# -- pull -------------------------------------------------------------------------------------


def read_changes(conn: Connection, after: Cursor, limit: int) -> PulledBatch:
    """The next entries after ``after`` that can never be preceded by a late commit, with the
    rows' current values. Run in a REPEATABLE READ, READ ONLY transaction."""
    xmin = int(conn.scalar(text(SNAPSHOT_XMIN)) or 0)
    entries = conn.execute(
        select(SyncChangeLog.txid, SyncChangeLog.seq, SyncChangeLog.table_name,
               SyncChangeLog.row_key)
        .where(tuple_(SyncChangeLog.txid, SyncChangeLog.seq) > tuple_(after.txid, after.seq),
               SyncChangeLog.txid < xmin)
        .order_by(SyncChangeLog.txid, SyncChangeLog.seq).limit(limit)).all()
    batch = PulledBatch(cursor=after, entries=len(entries), caught_up=len(entries) < limit)
    if not entries:
        return batch
    batch.cursor = Cursor(entries[-1].txid, entries[-1].seq)
    keys: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        keys[entry.table_name].add(entry.row_key)
    for name, wanted in keys.items():
        try:
            table = synced_table(name)
        except KeyError:
            continue  # a table this version does not have (check_schema refuses that first)
        found = fetch_rows(conn, table, wanted)
        batch.rows[name] = found
        gone = wanted - found.keys()
        if gone:
            batch.deleted[name] = gone
    return batch


def fetch_rows(conn: Connection, table: Table, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(keys)):
        for row in conn.execute(select(table).where(key_filter(table, part))):
            values = dict(row._mapping)
            found[row_key(table, values)] = values
    return found
