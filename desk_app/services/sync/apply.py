"""Applying rows from central to the workstation cache, in one local transaction.

A row with changes still waiting in the outbox keeps this desk's values for the fields it
changed (they are merged on central when pushed); every other field takes central's value.
Central's delete wins over local changes. Foreign keys are checked at commit, and the pull
fetches any parent row the cache lacks (services/sync/client.py), so rows can come in any
order. Derived local-only rows (patient search tokens and prefixes) are rebuilt for the rows
that came.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from desk_app.models.sync import SyncOutbox
from desk_app.services.search_rows import SearchRows, replace_search_rows
from desk_app.services.search_tokens import PatientSearchFields, tokens_for
from desk_app.services.sync.tables import chunks, key_filter, synced_table, synced_tables

#: Rebuilds local-only rows derived from a synced table's rows that just arrived.
AfterApply = Callable[[Connection, list[dict[str, Any]]], None]


def _patient_tokens(conn: Connection, rows: list[dict[str, Any]]) -> None:
    searchable = []
    for r in rows:
        fields = PatientSearchFields(
            legal_first_name=r["legal_first_name"], legal_last_name=r["legal_last_name"],
            preferred_name=r["preferred_name"], date_of_birth=r["date_of_birth"],
            mobile_phone=r["mobile_phone"], email=r["email"], home_phone=r["home_phone"])
        searchable.append(SearchRows(r["id"], r["sort_key"], tokens_for(fields)))
    replace_search_rows(conn, searchable)


AFTER_APPLY: dict[str, AfterApply] = {"patient": _patient_tokens}


def pending_changes(conn: Connection, keys: dict[str, set[str]]) -> dict[tuple[str, str],
                                                                         tuple[set[str], bool]]:
    """Rows of ``keys`` with changes waiting: their changed fields, and whether deleted."""
    pending: dict[tuple[str, str], tuple[set[str], bool]] = {}
    if conn.scalar(select(SyncOutbox.seq).limit(1)) is None:
        return pending  # nothing waits (a bootstrap, a desk that is all caught up)
    for table, wanted in keys.items():
        for part in chunks(sorted(wanted)):
            for key, op, base in conn.execute(
                    select(SyncOutbox.row_key, SyncOutbox.op, SyncOutbox.base)
                    .where(SyncOutbox.table_name == table, SyncOutbox.row_key.in_(part))
                    .order_by(SyncOutbox.seq)):
                fields, _deleted = pending.get((table, key), (set(), False))
                fields |= set(json.loads(base))
                pending[(table, key)] = (fields, op == "delete")
    return pending


def apply_rows(conn: Connection, rows: dict[str, dict[str, dict[str, Any]]],
               deleted: dict[str, set[str]]) -> int:
    """Write central's rows into the cache inside the caller's transaction (which must
    already hold SQLite's write lock, so no local change slips in between)."""
    conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    wanted = {t: set(r) | deleted.get(t, set()) for t, r in rows.items()}
    for t, keys in deleted.items():
        wanted.setdefault(t, set()).update(keys)
    pending = pending_changes(conn, wanted)
    count = 0
    for table in synced_tables():
        table_rows = rows.get(table.name)
        if not table_rows:
            continue
        whole: list[tuple[dict[str, Any], set[str]]] = []
        partial: list[tuple[dict[str, Any], set[str]]] = []
        for key, values in table_rows.items():
            fields, is_deleted = pending.get((table.name, key), (set(), False))
            if is_deleted:
                continue
            (partial if fields else whole).append((values, fields))
        _upsert(conn, table, [v for v, _ in whole])
        for values, fields in partial:
            _upsert(conn, table, [values], keep=fields)
        count += len(whole) + len(partial)
        after = AFTER_APPLY.get(table.name)
        if after:
            after(conn, [v for v, _ in whole + partial])
    for table in reversed(synced_tables()):
        gone = deleted.get(table.name)
        if gone:
            for part in chunks(sorted(gone)):
                conn.execute(delete(table).where(key_filter(table, part)))
                conn.execute(delete(SyncOutbox).where(SyncOutbox.table_name == table.name,
                                                      SyncOutbox.row_key.in_(part)))
            count += len(gone)
    return count


def _upsert(conn: Connection, table: Table, values: list[dict[str, Any]],
            keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """INSERT ... ON CONFLICT DO UPDATE of every column but ``keep``, as one executemany.

    The statement is compiled once and the values converted with the columns' own bind
    processors straight into the driver's executemany: a bootstrap writes millions of rows,
    and SQLAlchemy's per-row parameter handling would be most of its time.
    """
    if not values:
        return
    pk = [c.name for c in table.primary_key.columns]
    statement = sqlite_insert(table)
    take = {c.name: statement.excluded[c.name] for c in table.columns
            if c.name not in pk and c.name not in keep}
    if take:
        statement = statement.on_conflict_do_update(index_elements=pk, set_=take)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=pk)
    columns = list(table.columns)
    compiled = statement.compile(dialect=conn.dialect, column_keys=[c.name for c in columns])
    order = compiled.positiontup or []
    processors = {c.name: c.type._cached_bind_processor(conn.dialect) for c in columns}
    plan = [(name, processors.get(name)) for name in order]
    rows = [tuple(proc(v[name]) if proc else v[name] for name, proc in plan) for v in values]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(str(compiled), rows)
    finally:
        cursor.close()


def missing_parents(conn: Connection, rows: dict[str, dict[str, dict[str, Any]]]
                    ) -> dict[str, set[str]]:
    """Parent rows the incoming rows refer to that neither the cache nor the batch holds."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    for name, table_rows in rows.items():
        if not table_rows:
            continue
        table = synced_table(name)
        for fk in table.foreign_key_constraints:
            if len(fk.columns) != 1 or fk.referred_table.name not in _synced_names():
                continue
            column = next(iter(fk.columns)).name
            wanted[fk.referred_table.name].update(
                v[column] for v in table_rows.values() if v[column] is not None)
    missing: dict[str, set[str]] = {}
    for name, refs in wanted.items():
        table = synced_table(name)
        pk = table.primary_key.columns[0]
        have = {v[pk.name] for v in rows.get(name, {}).values()}
        refs -= have
        if not refs:
            continue
        present: set[Any] = set()
        for part in chunks(list(refs), 900):
            present.update(conn.scalars(select(pk).where(pk.in_(part))))
        if refs - present:
            missing[name] = {str(r) for r in refs - present}
    return missing


@cache
def _synced_names() -> frozenset[str]:
    return frozenset(t.name for t in synced_tables())


def write_outbox_reupload(conn: Connection, now: Any) -> int:
    """Queue every synced row of this cache for upload (joining a central database, or after
    central was restored): central inserts what it lacks and keeps its own version of the
    rest."""
    from desk_app.services.sync.tables import row_key

    count = 0
    for table in synced_tables():
        pk = list(table.primary_key.columns)
        for batch in conn.execute(select(*pk)).partitions(5000):
            entries = [{"table_name": table.name, "row_key": row_key(table, r._mapping),
                        "op": "reupload", "base": "{}", "created_at": now} for r in batch]
            conn.execute(insert(SyncOutbox), entries)
            count += len(entries)
    return count


def remove_rows(conn: Connection, rows: list[tuple[str, str]]) -> int:
    """Take rows central refused out of this cache, with the local rows that refer to them
    (central refuses those too: their parent is missing). The refused values are in the
    conflict log, so the caches converge on central and nothing disappears unseen."""
    doomed: dict[str, set[str]] = defaultdict(set)
    todo = list(rows)
    while todo:
        name, key = todo.pop()
        if key in doomed[name]:
            continue
        doomed[name].add(key)
        table = synced_table(name)
        if len(table.primary_key.columns) != 1:
            continue
        for child in synced_tables():
            for fk in child.foreign_key_constraints:
                if len(fk.columns) != 1 or fk.referred_table.name != name:
                    continue
                column = next(iter(fk.columns))
                pk = child.primary_key.columns[0]
                for (child_key,) in conn.execute(
                        select(pk).where(column == key_values_of(table, key))):
                    todo.append((child.name, str(child_key)))
    count = 0
    for table in reversed(synced_tables()):
        keys = doomed.get(table.name)
        if keys:
            for part in chunks(sorted(keys)):
                count += conn.execute(delete(table).where(key_filter(table, part))).rowcount
                conn.execute(delete(SyncOutbox).where(SyncOutbox.table_name == table.name,
                                                      SyncOutbox.row_key.in_(part)))
    return count


def key_values_of(table: Table, key: str) -> Any:
    from desk_app.services.sync.tables import key_values

    return key_values(table, key)[0]
