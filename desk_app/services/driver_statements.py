"""Running a fixed, already built SELECT straight on the database driver's cursor.

The search box sends one or two small statements per keystroke, whose SQL takes about
0.3 ms on 100,000 patients; SQLAlchemy's per-execution work (a Connection, its transaction,
the compiled-cache lookup, result rows) cost more than the SQL itself. Each statement is
compiled once for a dialect (kept while its statement is), and each run binds the values
through the column types' own bind processors, so the driver sees exactly what
SQLAlchemy would have sent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Select

#: Called with (SQL, parameters) before each run when set: how bench/ records what was sent.
observer: Callable[[str, Any], None] | None = None


@lru_cache(maxsize=512)
def _compiled(statement: Select[Any], dialect: Dialect) -> SQLCompiler:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def driver_connection(source: Session | Connection) -> tuple[Any, Dialect]:
    """The driver's own connection under a Session or Connection, and its dialect."""
    conn = source.connection() if isinstance(source, Session) else source
    return conn.connection.dbapi_connection, conn.dialect


def fetch_all(
    dbapi_connection: Any, dialect: Dialect, statement: Select[Any], values: dict[str, Any]
) -> list[Any]:
    """The rows of `statement` with `values` bound, as the driver returns them (tuples)."""
    compiled = _compiled(statement, dialect)
    params = compiled.construct_params(values)
    for name, process in compiled._bind_processors.items():
        if name in params and callable(process):  # (a sequence only for tuple types)
            params[name] = process(params[name])
    order = compiled.positiontup
    bound: Any = params if order is None else [params[name] for name in order]
    if observer is not None:
        observer(compiled.string, bound)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(compiled.string, bound)
        return list(cursor.fetchall())
    finally:
        cursor.close()
