"""Bringing an existing clinic database up to the current schema without risking its data.

A new version of Front Desk migrates the database it opens. Before it changes a SQLite file
that holds a clinic, it copies the file (SQLite's online backup API: a consistent copy even in
WAL mode) next to the database. The migration runs in one transaction, so a failure rolls
back; the file is then also restored from the copy, so whatever the failure the old database
is exactly as it was, and the person at the desk is told in plain words where the copy is.

PostgreSQL (the central database) changes its schema transactionally too; its backups are the
server's business (pg_dump), so nothing is copied here.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from desk_app.services.clock import Clock
from desk_app.services.errors import SchemaUpgradeFailed

__all__ = ["SchemaUpgradeFailed", "upgrade_schema"]

log = logging.getLogger(__name__)

#: Copies kept per database file; older ones are removed after a successful upgrade.
BACKUPS_KEPT = 3


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def backup_path(database: Path, revision: str, clock: Clock) -> Path:
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    return database.with_name(f"{database.stem}.before-upgrade-from-{revision}-{stamp}.sqlite3")


def copy_sqlite(source: Path, target: Path, key: str | None = None) -> None:
    """A consistent copy of a live SQLite database (committed WAL content included); with
    `key`, both are SQLCipher files under that key (the copy is as encrypted as the original)."""
    if key is None:
        connect: Any = sqlite3.connect
    else:
        from desk_app.services.cache_encryption import dbapi, key_pragma

        def connect(path: Path) -> Any:
            connection = dbapi().connect(str(path))
            connection.execute(key_pragma(key))
            return connection

    src = connect(source)
    try:
        dst = connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def holds_data(engine: Engine) -> bool:
    """The database has tables of ours (an empty new file has nothing to lose)."""
    with engine.connect() as connection:
        return bool(set(inspect(connection).get_table_names()) - {"alembic_version"})


def upgrade_schema(
    engine: Engine, url: str, clock: Clock, key: str | None = None
) -> Path | None:
    """Migrate to head, backing up a SQLite file first; returns the backup made, if any.

    Raises SchemaUpgradeFailed (the database unchanged, the message saying where the copy
    is) if the migration fails.
    """
    from desk_app.services.db import current_revision, head_revision, migrate

    database = sqlite_file(url)
    backup: Path | None = None
    old = current_revision(engine)
    if database is not None and database.exists() and holds_data(engine):
        backup = backup_path(database, old or "unversioned", clock)
        try:
            copy_sqlite(database, backup, key)
        except Exception as exc:  # OSError, or the sqlite3 / SQLCipher driver's Error
            backup.unlink(missing_ok=True)
            raise SchemaUpgradeFailed(
                "Front Desk needs to update the clinic's database and copies it first, but "
                f"could not write the copy to {backup.parent} ({exc}). Nothing was changed. "
                "Free some disk space there (or fix its permissions) and start Front Desk again.",
                None,
            ) from exc
        log.info("backed up %s to %s before upgrading its schema", database, backup)
    try:
        migrate(engine)
    except Exception as exc:
        log.exception("the schema upgrade from %s failed", old)
        if backup is not None and database is not None:
            engine.dispose()
            copy_sqlite(backup, database, key)
        raise SchemaUpgradeFailed(_failure_message(old, head_revision(), exc, backup),
                                  backup) from exc
    if backup is not None and database is not None:
        _prune(database, keep=BACKUPS_KEPT)
    return backup


def _failure_message(old: str | None, new: str, error: BaseException, backup: Path | None) -> str:
    lines = [
        f"This version of Front Desk could not update the clinic's database "
        f"(schema {old or 'none'} to {new}), so it cannot open it.",
        "Nothing was changed: the database is exactly as it was before.",
    ]
    if backup is not None:
        lines.append(f"A copy made before the attempt is at:\n{backup}")
    lines.append(
        "Keep using the previous version of Front Desk for now, and send the log file to "
        f"your support contact. (The error was: {type(error).__name__}: {error})"
    )
    return "\n\n".join(lines)


def _prune(database: Path, keep: int) -> None:
    # Newest first by the time stamp in the name (…-from-0004-20261121-190000.sqlite3).
    copies = sorted(
        database.parent.glob(f"{database.stem}.before-upgrade-from-*.sqlite3"),
        key=lambda p: p.name.removesuffix(".sqlite3").split("-")[-2:],
        reverse=True,
    )
    for old in copies[keep:]:
        old.unlink(missing_ok=True)

