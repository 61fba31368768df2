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

import contextlib
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


def read_stored_page(central: Connection, table: Table, after: str | None,
                     limit: int) -> list[tuple[Any, ...]]:
    """One page in storage form, fetched by the driver's cursor (no SQLAlchemy rows)."""
    compiled = page_query(table, after, limit).compile(dialect=central.dialect)
    cursor = central.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), compiled.params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


# -- loading in bulk (a new workstation) ---------------------------------------------------------

#: Tables with more rows than this have their plain (non-unique) indexes dropped while they
#: load and built again, sorted, once their last page is in: much faster than keeping millions
#: of random index entries up to date row by row.
BULK_INDEX_ROWS = 50_000


def plain_indexes(local: Connection, tables: list[str]) -> list[str]:
    """The CREATE INDEX statements of the non-unique indexes of ``tables``."""
    found: list[str] = []
    for name in tables:
        found.extend(sql for (sql,) in local.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql LIKE 'CREATE INDEX %' ORDER BY name", (name,)))
    return found


def drop_indexes(local: Connection, statements: list[str]) -> None:
    for sql in statements:
        local.exec_driver_sql(f'DROP INDEX IF EXISTS "{_index_name(sql)}"')


def create_indexes(local: Connection, statements: list[str]) -> None:
    for sql in statements:
        local.exec_driver_sql(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))


def _index_name(sql: str) -> str:
    rest = sql[len("CREATE INDEX "):].strip()
    if rest.startswith('"'):
        return rest[1:rest.index('"', 1)]
    return rest.split()[0]


def insert_search_tokens(local: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """The patients' search tokens and name-ordered prefix rows (services/search_rows.py),
    built from their stored rows, replacing any they had (a page copied again on resume)."""
    from datetime import date

    from desk_app.services.search_tokens import PatientSearchFields, prefixes_of, tokens_for

    at = {c.name: i for i, c in enumerate(table.columns)}
    first, last, preferred = at["legal_first_name"], at["legal_last_name"], at["preferred_name"]
    born, mobile, home, email = (at["date_of_birth"], at["mobile_phone"], at["home_phone"],
                                 at["email"])
    pk, sort = at["id"], at["sort_key"]
    tokens: list[tuple[str, str, str]] = []
    prefixes: list[tuple[str, str, str]] = []
    for r in rows:
        fields = PatientSearchFields(
            legal_first_name=r[first], legal_last_name=r[last], preferred_name=r[preferred],
            date_of_birth=date.fromisoformat(r[born]) if r[born] else None,
            mobile_phone=r[mobile], home_phone=r[home], email=r[email])
        own = tokens_for(fields)
        tokens.extend((r[pk], token, r[sort]) for token in own)
        prefixes.extend((x, r[sort], r[pk]) for x in prefixes_of(own))
    prefixes.sort()  # in the prefix table's key order: one sweep of its index
    cursor = local.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        ids = [r[pk] for r in rows]
        old: dict[tuple[str, str], set[str]] = {}
        for start in range(0, len(ids), 500):  # a first copy has none: one quick look
            part = ids[start:start + 500]
            for patient_id, token, key in cursor.execute(
                "SELECT patient_id, token, sort_key FROM patient_search_token "
                f"WHERE patient_id IN ({','.join('?' * len(part))})", part
            ).fetchall():
                old.setdefault((patient_id, key), set()).add(token)
        if old:  # their prefix rows, found from their old tokens (which carry the old key)
            cursor.executemany(
                "DELETE FROM patient_search_prefix "
                "WHERE prefix = ? AND sort_key = ? AND patient_id = ?",
                [(x, key, pid) for (pid, key), had in old.items() for x in prefixes_of(had)])
        cursor.executemany("DELETE FROM patient_search_token WHERE patient_id = ?",
                           [(i,) for i in ids])
        cursor.executemany("INSERT INTO patient_search_token (patient_id, token, sort_key) "
                           "VALUES (?, ?, ?)", tokens)
        cursor.executemany("INSERT OR IGNORE INTO patient_search_prefix "
                           "(prefix, sort_key, patient_id) VALUES (?, ?, ?)", prefixes)
    finally:
        cursor.close()


#: Derived rows rebuilt from a page of stored rows (instead of apply.AFTER_APPLY's values).
STORED_AFTER = {"patient": insert_search_tokens}


class PageReader:
    """Reads the next pages from central on its own thread while the cache writes the one
    before (PostgreSQL's work and the driver's wait overlap SQLite's writing).

    Pages come in the order the copy takes them: table by table, each in key order, the
    next table after a short page. ``close`` stops the thread (a cancel, an error)."""

    def __init__(self, read: Callable[[Table, str | None], StoredPage],
                 tables: Sequence[Table], table: int, after: str | None, page: int) -> None:
        self._read = read
        self._tables = tables
        self._start = (table, after)
        self._page = page
        self._queue: queue.Queue[tuple[int, StoredPage] | BaseException] = queue.Queue(
            maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bootstrap-reader",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        index, after = self._start
        try:
            while index < len(self._tables) and not self._stop.is_set():
                page = self._read(self._tables[index], after)
                if not self._put((index, page)):
                    return
                if page.count < self._page:
                    index, after = index + 1, None
                else:
                    after = page.last
        except BaseException as exc:  # handed to the copying thread, which raises it
            self._put(exc)

    def _put(self, item: tuple[int, StoredPage] | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def next(self, table: int) -> StoredPage:
        """The next page, which must belong to table number ``table``."""
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        index, page = item
        if index != table:
            raise RuntimeError(f"bootstrap pages out of order: {index} for {table}")
        return page

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join(timeout=60)


# -- pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPage:
    """A page of rows in storage form (column order of the table)."""

    rows: list[tuple[Any, ...]]
    last: str | None  # the row key of the last row

    @property
    def count(self) -> int:
        return len(self.rows)

    def insert(self, local: Connection, table: Table) -> None:
        insert_stored(local, table, self.rows)


def read_page(central: Connection, table: Table, after: str | None,
              limit: int) -> StoredPage:
    """The next page after row key ``after``."""
    rows = read_stored_page(central, table, after, limit)
    pk = [c.name for c in table.columns].index(table.primary_key.columns[0].name)
    return StoredPage(rows, key_of_stored(rows[-1][pk]) if rows else None)
