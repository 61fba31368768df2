"""The workstation's sync client: push the outbox, pull by cursor, bootstrap, re-sync.

Every step is a short transaction on each side; no central transaction is held while the
cache is written or while waiting on anything else. Methods block on the network: the app
runs them on its sync thread (views/sync_status.py), never on the UI thread.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, text, tuple_, update
from sqlalchemy.exc import SQLAlchemyError

from desk_app.models.sync import SyncChangeLog, SyncOutbox
from desk_app.services.db import Database
from desk_app.services.sync import central, pruning, state
from desk_app.services.sync.apply import (
    AFTER_APPLY,
    apply_rows,
    missing_parents,
    remove_rows,
    write_outbox_reupload,
)
from desk_app.services.sync.bootstrap_copy import (
    BULK_INDEX_ROWS,
    STORED_AFTER,
    PageReader,
    StoredPage,
    create_indexes,
    drop_indexes,
    fast_path_possible,
    missing_references,
    plain_indexes,
    read_page,
)
from desk_app.services.sync.changes import (
    Cursor,
    EpochChanged,
    PulledBatch,
    PushOutcome,
    RowChange,
)
from desk_app.services.sync.outbox import waiting
from desk_app.services.sync.tables import (
    chunks,
    key_filter,
    row_key,
    synced_table,
    synced_tables,
)

log = logging.getLogger(__name__)

#: Beyond any real change-log sequence: "everything of this transaction id".
MAX_SEQ = 2**62


@dataclass(frozen=True)
class BootstrapProgress:
    done: int
    total: int
    table: str


class SyncClient:
    """Sync one workstation cache (``local``) with central (``central``, PostgreSQL)."""

    def __init__(self, local: Database, central_engine: Engine, workstation: str, *,
                 push_batch: int = 500, pull_batch: int = 2000,
                 bootstrap_page: int = 20_000, prune_daily: bool = True,
                 bulk_index_rows: int = BULK_INDEX_ROWS) -> None:
        self.local = local
        self.central = central_engine
        self.workstation = workstation
        self.push_batch = push_batch
        self.pull_batch = pull_batch
        self.bootstrap_page = bootstrap_page
        #: Run central's prune at the end of a cycle when nobody did for a day.
        self.prune_daily = prune_daily
        #: A bootstrap drops a bigger table's plain indexes while loading it (built after).
        self.bulk_index_rows = bulk_index_rows
        #: Test hook: called after central committed a push, before the outbox is cleared
        #: (raise to drop the answer; os._exit to crash).
        self.after_central_commit: Callable[[uuid.UUID], None] | None = None
        #: Test hook: called inside the local apply transaction, before it commits.
        self.before_apply_commit: Callable[[PulledBatch], None] | None = None

    # -- the cycle ---------------------------------------------------------------------------

    def sync_once(self, progress: Callable[[BootstrapProgress], None] | None = None) -> None:
        """Bootstrap if needed, push everything waiting, pull until caught up."""
        try:
            self._cycle(progress)
        except EpochChanged as exc:
            log.warning("%s", exc)
            self.begin_resync()
            self._cycle(progress)

    def _cycle(self, progress: Callable[[BootstrapProgress], None] | None) -> None:
        if not self.bootstrapped():
            self.bootstrap(progress)
        pushed = False
        while self.push_once() is not None:
            pushed = True
        while not self.pull_once().caught_up:
            pass
        self.heartbeat(pushed=pushed)
        with self.local.engine.begin() as conn:
            state.put(conn, state.LAST_SYNC, self.local.clock.now().isoformat())
        if self.prune_daily:
            try:
                report = pruning.prune_if_due(self.central)
            except SQLAlchemyError as exc:  # central went away mid-prune: next time
                log.warning("prune of central's sync log failed: %s", exc)
            else:
                if report is not None:
                    log.info("central pruned: %s", report)

    def heartbeat(self, *, pushed: bool = False) -> None:
        """Tell central this desk's cursor (everything at or below it is applied here)."""
        with self.local.engine.connect() as conn:
            cursor = Cursor.parse(state.get(conn, state.CURSOR))
        with self.central.begin() as conn:
            pruning.record_heartbeat(conn, self.workstation, cursor, pulled=True,
                                     pushed=pushed)

    def status(self) -> dict[str, str]:
        with self.local.engine.connect() as conn:
            values = state.get_all(conn)
            values["waiting"] = str(waiting(conn))
        return values

    # -- push --------------------------------------------------------------------------------

    def claim_batch(self) -> uuid.UUID | None:
        """The batch to push: one claimed earlier and never acknowledged, or a new one (the
        oldest changed rows, with any waiting parent rows they refer to)."""
        with self.local.engine.begin() as conn:
            claimed = conn.scalar(select(SyncOutbox.batch_id)
                                  .where(SyncOutbox.batch_id.is_not(None)).limit(1))
            if claimed is not None:
                return uuid.UUID(str(claimed))
            keys: OrderedDict[tuple[str, str], None] = OrderedDict()
            for name, key in conn.execute(
                    select(SyncOutbox.table_name, SyncOutbox.row_key)
                    .order_by(SyncOutbox.seq).limit(self.push_batch)):
                keys[(name, key)] = None
            if not keys:
                return None
            self._add_waiting_parents(conn, keys)
            batch_id = uuid.uuid4()
            by_table: dict[str, list[str]] = {}
            for name, key in keys:
                by_table.setdefault(name, []).append(key)
            for name, table_keys in by_table.items():
                for part in chunks(table_keys):
                    conn.execute(update(SyncOutbox)
                                 .where(SyncOutbox.table_name == name,
                                        SyncOutbox.row_key.in_(part))
                                 .values(batch_id=batch_id))
            return batch_id

    def _add_waiting_parents(self, conn: Connection,
                             keys: OrderedDict[tuple[str, str], None]) -> None:
        """A row pushed with its current values may refer to a row created after the batch's
        last entry: that parent goes in the same batch, or central would refuse the child."""
        todo = list(keys)
        # Only parents in a table with something waiting can be waiting (most pushes: none).
        waiting_tables = set(conn.scalars(select(SyncOutbox.table_name).distinct()))
        while todo:
            by_table: dict[str, list[str]] = {}
            for name, key in todo:
                by_table.setdefault(name, []).append(key)
            todo = []
            refs: dict[str, set[str]] = {}
            for name, table_keys in by_table.items():
                table = synced_table(name)
                fks = [fk for fk in table.foreign_key_constraints
                       if len(fk.columns) == 1 and fk.referred_table.name in waiting_tables]
                if not fks:
                    continue
                columns = [next(iter(fk.columns)) for fk in fks]
                for part in chunks(table_keys):
                    for row in conn.execute(select(*columns).where(key_filter(table, part))):
                        for fk, ref in zip(fks, row, strict=True):
                            parent = fk.referred_table.name
                            if ref is not None and (parent, str(ref)) not in keys:
                                refs.setdefault(parent, set()).add(str(ref))
            for parent, wanted in refs.items():
                for part in chunks(sorted(wanted)):
                    for (key,) in conn.execute(
                            select(SyncOutbox.row_key).distinct()
                            .where(SyncOutbox.table_name == parent,
                                   SyncOutbox.row_key.in_(part))):
                        if (parent, key) not in keys:
                            keys[(parent, key)] = None
                            todo.append((parent, key))

    def read_batch(self, batch_id: uuid.UUID) -> list[RowChange]:
        """The claimed rows' current values and, per field, the value before the first
        change this desk made (the base of the merge)."""
        changes: OrderedDict[tuple[str, str], RowChange] = OrderedDict()
        with self.local.engine.connect() as conn:
            for name, key, op, base in conn.execute(
                    select(SyncOutbox.table_name, SyncOutbox.row_key, SyncOutbox.op,
                           SyncOutbox.base)
                    .where(SyncOutbox.batch_id == batch_id).order_by(SyncOutbox.seq)):
                change = changes.get((name, key))
                if change is None:
                    change = changes[(name, key)] = RowChange(name, key, op, None)
                elif op == "delete":
                    change.op = "delete"
                if base != "{}":
                    for field, value in json.loads(base).items():
                        change.base.setdefault(field, value)
            by_table: dict[str, list[RowChange]] = {}
            for change in changes.values():
                by_table.setdefault(change.table, []).append(change)
            for name, table_changes in by_table.items():
                table = synced_table(name)
                index = {c.key: c for c in table_changes}
                names = [c.name for c in table.columns]
                for part in chunks(list(index), 900):
                    for row in conn.execute(select(table).where(key_filter(table, part))):
                        values = dict(zip(names, row, strict=True))
                        index[row_key(table, values)].row = values
        return list(changes.values())

    def push_once(self) -> PushOutcome | None:
        """Push one batch; None when nothing waits."""
        batch_id = self.claim_batch()
        if batch_id is None:
            return None
        changes = self.read_batch(batch_id)
        epoch, seen = self._known_epoch()
        with self.central.begin() as conn:
            central.check_schema(conn)
            central.check_epoch(conn, epoch, seen)
            outcome = central.apply_push(conn, batch_id, self.workstation, changes,
                                         self.local.clock.now())
        if self.after_central_commit is not None:
            self.after_central_commit(batch_id)
        with self.local.engine.begin() as conn:
            conn.execute(delete(SyncOutbox).where(SyncOutbox.batch_id == batch_id))
            if outcome.rejected:
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                remove_rows(conn, outcome.rejected)
        if outcome.rejected:
            log.warning("central refused %d rows (see the conflict log)", len(outcome.rejected))
        return outcome

    # -- pull --------------------------------------------------------------------------------

    def pull_once(self) -> PulledBatch:
        """Pull and apply one batch of other desks' changes; advance the cursor with it."""
        with self.local.engine.connect() as conn:
            cursor = Cursor.parse(state.get(conn, state.CURSOR))
        epoch, seen = self._known_epoch()
        with self._central_snapshot() as conn:
            central.check_schema(conn)
            central.check_epoch(conn, epoch, seen)
            pruning.check_horizon(conn, cursor)
            batch = central.read_changes(conn, cursor, self.pull_batch)
            self._fetch_missing_parents(conn, batch)
        self._apply(batch, cursor_update=True)
        return batch

    def _central_snapshot(self) -> Any:
        conn = self.central.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True)
        return _Snapshot(conn)

    def _fetch_missing_parents(self, conn: Connection, batch: PulledBatch) -> None:
        with self.local.engine.connect() as local:
            for _ in range(10):
                missing = missing_parents(local, batch.rows)
                if not missing:
                    return
                for name, keys in missing.items():
                    found = central.fetch_rows(conn, synced_table(name), keys)
                    batch.rows.setdefault(name, {}).update(found)

    def _apply(self, batch: PulledBatch, *, cursor_update: bool,
               extra: dict[str, str] | None = None) -> None:
        with self.local.engine.begin() as conn:
            # A write first: SQLite's write lock is held from here to the commit, so no local
            # change can land between reading the outbox and writing the rows.
            if cursor_update:
                state.put(conn, state.CURSOR, batch.cursor.text())
                if batch.cursor.seq and batch.cursor.seq < MAX_SEQ:
                    state.put(conn, state.SEEN_SEQ, str(batch.cursor.seq))
            for key, value in (extra or {}).items():
                state.put(conn, key, value)
            apply_rows(conn, batch.rows, batch.deleted)
            if self.before_apply_commit is not None:
                self.before_apply_commit(batch)

    def _known_epoch(self) -> tuple[str, Cursor]:
        with self.local.engine.connect() as conn:
            epoch = state.get(conn, state.EPOCH)
            seen = int(state.get(conn, state.SEEN_SEQ, "0") or 0)
        return epoch, Cursor(0, seen)

    # -- bootstrap and re-sync ---------------------------------------------------------------

    def joined(self) -> bool:
        with self.local.engine.connect() as conn:
            return bool(state.get(conn, state.BOOTSTRAP))

    def bootstrapped(self) -> bool:
        with self.local.engine.connect() as conn:
            progress = state.get(conn, state.BOOTSTRAP)
        return bool(progress) and bool(json.loads(progress).get("done"))

    def begin_resync(self) -> None:
        """Join central (or re-join it after a restore): queue every row of this cache for
        upload, forget the cursor and copy central again."""
        with self.local.engine.begin() as conn:
            state.put(conn, state.BOOTSTRAP, json.dumps({"done": False}))
            state.put(conn, state.EPOCH, "")
            state.put(conn, state.CURSOR, "")
            state.put(conn, state.SEEN_SEQ, "0")
            conn.execute(update(SyncOutbox).values(batch_id=None))
            queued = write_outbox_reupload(conn, self.local.clock.now())
        log.info("re-sync: %d rows queued for upload", queued)

    def bootstrap(self, progress: Callable[[BootstrapProgress], None] | None = None,
                  cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Copy central into this cache, table by table in pages of short transactions.

        Resumable: the position is saved with each page. Changes made on central while it
        runs are pulled afterwards from the cursor taken when it started. Returns False if
        cancelled (call again to resume). A cache joining central for the first time first
        queues all it holds for upload (nothing, on a new workstation).
        """
        if not self.joined():
            self.begin_resync()
        with self.local.engine.connect() as conn:
            saved = json.loads(state.get(conn, state.BOOTSTRAP) or "{}")
        if saved.get("done"):
            return True
        if "start" not in saved:
            with self.central.begin() as conn:
                central.check_schema(conn)
                epoch = central.ensure_epoch(conn)
                # Registered before the copy, at or below where it will start, so a prune
                # meanwhile keeps what this desk pulls after copying.
                xmin = int(conn.scalar(text(central.SNAPSHOT_XMIN)) or 0)
                pruning.record_heartbeat(conn, self.workstation, Cursor(xmin - 1, MAX_SEQ))
            with self._central_snapshot() as conn:
                xmin = int(conn.scalar(text(central.SNAPSHOT_XMIN)) or 0)
                last_seq = conn.scalar(select(func.max(SyncChangeLog.seq))) or 0
            saved = {"start": Cursor(xmin - 1, MAX_SEQ).text(), "epoch": epoch,
                     "seen": int(last_seq), "table": 0, "after": None, "done": False}
            with self.local.engine.begin() as conn:
                state.put(conn, state.BOOTSTRAP, json.dumps(saved))
        tables = synced_tables()
        with self._central_snapshot() as conn:
            counts = [int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables]
        with self.local.engine.connect() as conn:
            fast = conn.scalar(select(SyncOutbox.seq).limit(1)) is None
        total = sum(counts)
        done = sum(counts[: saved["table"]])
        if saved["after"] is not None:  # resuming inside a table: what is in already
            with self.local.engine.connect() as conn:
                done += int(conn.scalar(select(func.count()).select_from(
                    tables[saved["table"]])) or 0)
        # One local connection for the whole copy; a new workstation's (empty outbox) writes
        # without waiting for the disk (a crash loses at most pages not yet marked as done
        # in sync_state, which are copied again).
        local = self.local.engine.connect()
        if fast:
            local.exec_driver_sql("PRAGMA synchronous=OFF")
            local.commit()
        reader: PageReader | None = None
        try:
            if fast and all(fast_path_possible(t) for t in tables):
                reader = PageReader(self._read_stored_page, tables, saved["table"],
                                    saved["after"], self.bootstrap_page)
            while saved["table"] < len(tables):
                if cancelled():
                    return False
                table = tables[saved["table"]]
                if reader is not None:
                    page = reader.next(saved["table"])
                    copied, last = self._copy_stored_page(local, table, saved,
                                                          counts[saved["table"]], page)
                elif fast and fast_path_possible(table):
                    page = self._read_stored_page(table, saved["after"])
                    copied, last = self._copy_stored_page(local, table, saved,
                                                          counts[saved["table"]], page)
                else:
                    copied, last = self._copy_page(table, saved)
                if copied < self.bootstrap_page:
                    saved["table"], saved["after"] = saved["table"] + 1, None
                else:
                    saved["after"] = last
                done += copied
                if progress is not None:
                    progress(BootstrapProgress(min(done, total), total, table.name))
            return True
        finally:
            if reader is not None:
                reader.close()
            self._end_bulk(local, saved, fast)

    def _end_bulk(self, local: Connection, saved: dict[str, Any], fast: bool) -> None:
        """Leaving a copy (finished, cancelled or failed): indexes dropped for a table still
        loading are built again, so a cache in use always has them."""
        try:
            local.rollback()
            if saved.get("indexes"):
                with local.begin():
                    state.put(local, state.BOOTSTRAP, json.dumps({**saved, "indexes": []}))
                    create_indexes(local, saved["indexes"])
                saved["indexes"] = []
        finally:
            if fast:
                local.exec_driver_sql("PRAGMA synchronous=NORMAL")
                local.commit()
            local.close()

    def _page_state(self, saved: dict[str, Any]) -> dict[str, str]:
        """What to save with a page: the position after it, and at the end the cursor."""
        extra = {state.BOOTSTRAP: json.dumps(saved)}
        if saved["done"]:
            extra.update({state.CURSOR: saved["start"], state.EPOCH: saved["epoch"],
                          state.SEEN_SEQ: str(saved["seen"])})
        return extra

    def _copy_page(self, table: Any, saved: dict[str, Any]) -> tuple[int, str | None]:
        """One page by the general path (Python values, merged with local changes)."""
        pk = list(table.primary_key.columns)
        with self._central_snapshot() as conn:
            query = select(table).order_by(*pk).limit(self.bootstrap_page)
            if saved["after"] is not None:
                after = _key_tuple(table, saved["after"])
                query = query.where(tuple_(*pk) > tuple_(*after) if len(pk) > 1
                                    else pk[0] > after[0])
            rows = {row_key(table, r._mapping): dict(r._mapping) for r in conn.execute(query)}
            batch = PulledBatch(rows={table.name: dict(rows)} if rows else {})
            self._fetch_missing_parents(conn, batch)
        last = list(rows)[-1] if rows else None
        self._apply(batch, cursor_update=False,
                    extra=self._page_state(self._advanced(saved, len(rows), last)))
        return len(rows), last

    def _read_stored_page(self, table: Any, after: str | None) -> StoredPage:
        with self._central_snapshot() as conn:
            return read_page(conn, table, after, self.bootstrap_page)

    def _copy_stored_page(self, local: Connection, table: Any, saved: dict[str, Any],
                          count: int, page: StoredPage) -> tuple[int, str | None]:
        """One page by the fast path (storage form, straight into SQLite)."""
        try:
            # Foreign keys are checked as the rows go in (by SQLite, in C): a row whose
            # parent the cache lacks (written on central after that table was copied) fails
            # the page, which is then written again with its missing parents fetched.
            self._write_stored_page(local, table, saved, count, page, None)
        except _integrity_error(local):
            with self._central_snapshot() as conn:
                missing = missing_references(local, table, page.rows)
                local.rollback()  # the reads above began a local transaction
                parents = PulledBatch(rows={
                    name: central.fetch_rows(conn, synced_table(name), keys)
                    for name, keys in missing.items()})
                if parents.rows:
                    self._fetch_missing_parents(conn, parents)
            self._write_stored_page(local, table, saved, count, page, parents)
        return page.count, page.last

    def _write_stored_page(self, local: Connection, table: Any, saved: dict[str, Any],
                           count: int, page: StoredPage, parents: PulledBatch | None) -> None:
        """Write one fast-path page and the position after it, in one local transaction.

        The position is written first: SQLite's driver opens the transaction at the first
        write, and the index changes (DDL) must be inside it."""
        indexes = saved.get("indexes") or []
        drop = count > self.bulk_index_rows and not indexes
        with local.begin():
            if drop:
                derived = ["patient_search_token"] if table.name in STORED_AFTER else []
                indexes = plain_indexes(local, [table.name, *derived])
            finishing = page.count < self.bootstrap_page
            ahead = {**saved, "indexes": [] if finishing else indexes}
            for key, value in self._page_state(
                    self._advanced(ahead, page.count, page.last)).items():
                state.put(local, key, value)
            if drop:
                drop_indexes(local, indexes)
            if parents is not None:
                local.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
                if parents.rows:
                    apply_rows(local, parents.rows, {})
            page.insert(local, table)
            if page.count:
                self._after_stored(local, table, page)
            if finishing and indexes:
                create_indexes(local, indexes)
        saved["indexes"] = ahead["indexes"]

    @staticmethod
    def _after_stored(local: Connection, table: Any, page: StoredPage) -> None:
        """Rebuild what is derived from the rows just copied (patients' search tokens)."""
        stored = STORED_AFTER.get(table.name)
        if stored is not None:
            stored(local, table, page.rows)
            return
        after = AFTER_APPLY.get(table.name)
        if after is not None:
            pk_index = [c.name for c in table.columns].index(table.primary_key.columns[0].name)
            ids = [uuid.UUID(r[pk_index]) for r in page.rows]
            values = [dict(r._mapping) for part in chunks(ids, 900) for r in local.execute(
                select(table).where(table.primary_key.columns[0].in_(part)))]
            after(local, values)

    def _advanced(self, saved: dict[str, Any], copied: int, last: str | None) -> dict[str, Any]:
        """The bootstrap position after a page of ``copied`` rows ending at ``last``."""
        if copied < self.bootstrap_page:
            ahead = {**saved, "table": saved["table"] + 1, "after": None}
        else:
            ahead = {**saved, "after": last}
        ahead["done"] = ahead["table"] >= len(synced_tables())
        return ahead


def _integrity_error(local: Connection) -> type[Exception]:
    """The driver's IntegrityError (sqlite3's, or SQLCipher's for an encrypted cache)."""
    error = getattr(local.dialect.dbapi, "IntegrityError", sqlite3.IntegrityError)
    return error if isinstance(error, type) else sqlite3.IntegrityError


def _key_tuple(table: Any, key: str) -> tuple[Any, ...]:
    from desk_app.services.sync.tables import key_values

    return key_values(table, key)


class _Snapshot:
    """A REPEATABLE READ, READ ONLY central transaction, closed on exit."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        self.conn.begin()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()
