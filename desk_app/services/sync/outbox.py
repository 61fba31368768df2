"""The outbox: every change to a synced table, written in the same transaction as the change.

A session of a workstation cache (``Database(..., capture_changes=True)``) records, after each
flush, one outbox entry per inserted, updated or deleted row of a synced table; for an update
the changed fields' values before the change (the merge's base). Writes that bypass the ORM
(Core ``insert``/``update`` on a synced table) are not seen: services write synced tables
through the ORM, or call :func:`record_changes` themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, event, func, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from desk_app.models.sync import SyncOutbox
from desk_app.services.clock import Clock, SystemClock
from desk_app.services.sync.codec import encode_value
from desk_app.services.sync.tables import BOOKKEEPING, is_synced, row_key

#: The session.info key that turns capture on (set by Database(capture_changes=True)).
CAPTURE_KEY = "sync_capture"

#: An outbox entry: (table, row key, op, base values).
Entry = tuple[str, str, str, dict[str, Any]]


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _context: UOWTransaction) -> None:
    if not session.info.get(CAPTURE_KEY):
        return
    entries: list[Entry] = []
    for obj in session.new:
        table = inspect(obj).mapper.local_table
        if is_synced(table.name):
            entries.append((table.name, row_key(table, obj), "insert", {}))
    for obj in session.dirty:
        state = inspect(obj)
        table = state.mapper.local_table
        if not is_synced(table.name) or not session.is_modified(obj):
            continue
        base: dict[str, Any] = {}
        for prop in state.mapper.column_attrs:
            column = prop.columns[0]
            if column.name in BOOKKEEPING:
                continue
            history = state.attrs[prop.key].history
            if history.added or history.deleted:
                old = history.deleted[0] if history.deleted else None
                base[column.name] = encode_value(column, old)
        if base:
            entries.append((table.name, row_key(table, obj), "update", base))
    for obj in session.deleted:
        table = inspect(obj).mapper.local_table
        if is_synced(table.name):
            entries.append((table.name, row_key(table, obj), "delete", {}))
    if entries:
        clock: Clock = session.info.get("clock") or SystemClock()
        record_changes(session.connection(), entries, clock)


def record_changes(connection: Connection, entries: Iterable[Entry], clock: Clock) -> None:
    """Add outbox entries inside the caller's transaction."""
    now = clock.now()
    rows = [{"table_name": t, "row_key": k, "op": op, "base": json.dumps(base, sort_keys=True),
             "created_at": now} for t, k, op, base in entries]
    if rows:
        connection.execute(insert(SyncOutbox), rows)


def waiting(connection: Connection) -> int:
    """How many changed rows wait to be pushed."""
    return int(connection.scalar(
        select(func.count()).select_from(
            select(SyncOutbox.table_name, SyncOutbox.row_key).distinct().subquery())) or 0)
