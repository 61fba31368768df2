"""The fast path of a bootstrap: rows copied in SQLite's storage form, converted by
PostgreSQL, not by Python.

A new workstation copies millions of rows. Converting each value to Python and back (UUID
objects, aware datetimes) was most of the time, so each column is selected as the text or
number SQLAlchemy stores in SQLite (a UUID as 32 hex digits, a time as
"YYYY-MM-DD HH:MM:SS.ffffff", a boolean as 0/1) and the rows go straight into the driver's
executemany. Used only for a cache with nothing waiting in its outbox (a new workstation);
the general path (services/sync/apply.py) merges with local changes.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Integer, Select, Table, cast, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Date, DateTime, String, TypeDecorator, Uuid


def _impl(column: Column[Any]) -> Any:
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def storage_expression(column: Column[Any]) -> ColumnElement[Any]:
    """``column`` on PostgreSQL as SQLAlchemy stores it in SQLite."""
    kind = _impl(column)
    if isinstance(kind, Uuid):
        return func.replace(cast(column, String), "-", "")
    if isinstance(kind, DateTime):
        return func.to_char(column, "YYYY-MM-DD HH24:MI:SS.US")
    if isinstance(kind, Date):
        return func.to_char(column, "YYYY-MM-DD")
    if isinstance(kind, Boolean):
        return cast(column, Integer)
    return column


def fast_path_possible(table: Table) -> bool:
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and isinstance(_impl(pk[0]), Uuid)


def page_query(table: Table, after: str | None, limit: int) -> Select[Any]:
    pk = table.primary_key.columns[0]
    query = select(*(storage_expression(c).label(c.name) for c in table.columns))
    if after is not None:
        query = query.where(pk > uuid.UUID(after))
    return query.order_by(pk).limit(limit)


def insert_stored(local: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows already in storage form (column order of ``table``), replacing any."""
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    marks = ", ".join("?" for _ in table.columns)
    cursor = local.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f'INSERT OR REPLACE INTO "{table.name}" ({names}) VALUES ({marks})',
                           rows)
    finally:
        cursor.close()


def missing_references(local: Connection, table: Table, rows: list[tuple[Any, ...]]
                       ) -> dict[str, set[str]]:
    """Parents (table -> row keys) the stored rows refer to that the cache lacks."""
    from desk_app.services.sync.tables import chunks, is_synced

    index = {c.name: i for i, c in enumerate(table.columns)}
    own = {r[index[table.primary_key.columns[0].name]] for r in rows}
    missing: dict[str, set[str]] = {}
    for fk in table.foreign_key_constraints:
        parent = fk.referred_table
        if len(fk.columns) != 1 or not is_synced(parent.name) or not fast_path_possible(parent):
            continue
        position = index[next(iter(fk.columns)).name]
        refs = {r[position] for r in rows if r[position] is not None}
        if parent.name == table.name:
            refs -= own
        if not refs:
            continue
        present: set[str] = set()
        pk_name = parent.primary_key.columns[0].name
        for part in chunks(sorted(refs), 900):
            marks = ", ".join("?" for _ in part)
            present.update(v for (v,) in local.exec_driver_sql(
                f'SELECT "{pk_name}" FROM "{parent.name}" WHERE "{pk_name}" IN ({marks})',
                tuple(part)))
        lacking = refs - present
        if lacking:
            missing.setdefault(parent.name, set()).update(str(uuid.UUID(h)) for h in lacking)
    return missing


def key_of_stored(value: str) -> str:
    """The row key (a UUID with dashes) of a stored 32-hex-digit id."""
    return str(uuid.UUID(value))
