"""Which tables synchronise, and how: derived from the SQLAlchemy metadata.

Every table of ``Base.metadata`` synchronises unless it is named in :data:`LOCAL_ONLY`, so a
table added by a later migration and model syncs with no change here. How it merges comes
from its model: an ``AppendOnly`` table (the ledger) is insert-only and never conflicts; any
other table is mutable and merges field by field (services/sync/central.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, and_, false, or_, tuple_
from sqlalchemy.types import Uuid

import desk_app.models  # noqa: F401  (registers every table)
from desk_app.models.base import AppendOnly, Base
from desk_app.services.sync.codec import decode_value, encode_value

#: Tables that never leave the machine they are on, and why.
LOCAL_ONLY: dict[str, str] = {
    "sync_outbox": "the workstation's changes waiting to be pushed",
    "sync_state": "the workstation's cursor, epoch and bootstrap progress",
    "sync_change_log": "central's record of changes (pulled from, never copied)",
    "sync_push_receipt": "central's record of the batches it applied",
    "sync_meta": "central's epoch and pruned horizon",
    "sync_workstation": "central's record of each desk's cursor (the heartbeat; pruning)",
    "patient_search_token": "derived from the patient row; rebuilt when a patient arrives",
    "patient_search_prefix": "derived from the patient row; rebuilt when a patient arrives",
}

#: Columns that are bookkeeping, not values people edit: never merged field by field.
BOOKKEEPING = frozenset({"version", "updated_at", "created_at"})


@cache
def synced_tables() -> tuple[Table, ...]:
    """The synced tables, parents before children (foreign-key order)."""
    return tuple(t for t in Base.metadata.sorted_tables if t.name not in LOCAL_ONLY)


@cache
def synced_table(name: str) -> Table:
    for table in synced_tables():
        if table.name == name:
            return table
    raise KeyError(f"{name} is not a synced table")


@cache
def table_order() -> dict[str, int]:
    return {t.name: i for i, t in enumerate(synced_tables())}


@cache
def append_only_tables() -> frozenset[str]:
    names = set()
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, AppendOnly) and mapper.local_table is not None:
            names.add(mapper.local_table.name)  # type: ignore[attr-defined]
    return frozenset(names)


def is_synced(name: str) -> bool:
    return name in table_order()


def key_columns(table: Table) -> Sequence[Column[Any]]:
    return _key_columns(table.name, table)


@cache
def _key_columns(_name: str, table: Table) -> tuple[Column[Any], ...]:
    return tuple(table.primary_key.columns)


def row_key(table: Table, values: Any) -> str:
    """A row's key as text: the UUID for a one-column key, a JSON list otherwise."""
    cols = key_columns(table)
    if len(cols) == 1:
        if isinstance(values, dict):
            only = values[cols[0].name]
            if isinstance(only, uuid.UUID):
                return str(only)
        value = _get(values, cols[0].name)
        return str(value) if isinstance(value, uuid.UUID) else json.dumps(
            encode_value(cols[0], value))
    return json.dumps([encode_value(c, _get(values, c.name)) for c in cols])


def key_values(table: Table, key: str) -> tuple[Any, ...]:
    cols = key_columns(table)
    if len(cols) == 1:
        if isinstance(cols[0].type, Uuid):
            return (uuid.UUID(key),)
        return (decode_value(cols[0], json.loads(key)),)
    return tuple(decode_value(c, v) for c, v in zip(cols, json.loads(key), strict=True))


def key_filter(table: Table, keys: Iterable[str]) -> ColumnElement[bool]:
    """WHERE the row's key is one of ``keys``."""
    cols = key_columns(table)
    values = [key_values(table, k) for k in keys]
    if len(cols) == 1:
        return cols[0].in_([v[0] for v in values])
    if not values:
        return false()
    return tuple_(*cols).in_(values) if len(values) < 500 else or_(
        *(and_(*(c == v for c, v in zip(cols, vals, strict=True))) for vals in values))


def _get(values: Any, name: str) -> Any:
    if isinstance(values, dict):
        return values[name]
    return getattr(values, name)


def chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
