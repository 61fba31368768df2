"""The workstation's sync bookkeeping in ``sync_state`` (key/value text)."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from desk_app.models.sync import SyncState

EPOCH = "epoch"  # central's epoch this cache is synced with
CURSOR = "cursor"  # the pull cursor, "txid:seq"
SEEN_SEQ = "seen_seq"  # the highest change-log seq applied (detects a restored central)
LAST_SYNC = "last_sync_at"  # ISO time of the last complete push and pull
BOOTSTRAP = "bootstrap"  # JSON: {"start": cursor, "table": i, "after": key, "done": bool}


def get(conn: Connection, key: str, default: str = "") -> str:
    value = conn.scalar(select(SyncState.value).where(SyncState.key == key))
    return default if value is None else str(value)


def put(conn: Connection, key: str, value: str) -> None:
    conn.execute(sqlite_insert(SyncState).values(key=key, value=value)
                 .on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def get_all(conn: Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute(select(SyncState.key, SyncState.value))}
