"""Opening the database, running migrations, and the rules every flush obeys.

One Database per process. Sessions are not thread-safe: the Qt layer runs every call on one
database thread. Each use case is one transaction (`with db.transaction() as s:`), so a refusal
leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from desk_app.models.base import AppendOnly, Versioned
from desk_app.services.clock import Clock, SystemClock

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

#: The newest migration (desk_app/migrations/versions). A database at this revision is opened
#: without importing Alembic (about 0.12 s of every start); tests/test_migrations.py checks
#: it is Alembic's head, so a new migration cannot be left out.
HEAD_REVISION = "0008"

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_CACHE_KIB = 64 * 1024  # page cache per SQLite connection


class AppendOnlyViolation(RuntimeError):
    """A programming error: ledger rows are never edited or deleted."""


def alembic_config(url: str | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """Alembic's head revision, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def make_engine(url: str, *, echo: bool = False, key: str | None = None) -> Engine:
    """An engine for `url`; a SQLite file with a `key` is opened with SQLCipher (encrypted
    at rest, services/cache_encryption.py)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if key is not None:
        if parsed.get_backend_name() != "sqlite":
            raise ValueError("only a SQLite database is encrypted by the app")
        from desk_app.services.cache_encryption import dbapi

        kwargs["module"] = dbapi()
    if parsed.get_backend_name() == "sqlite":
        # One database thread uses the connections (views.tasks), but they may be opened on
        # the main thread during start-up.
        kwargs["connect_args"] = {"check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if key is not None:
        from desk_app.services.cache_encryption import key_pragma

        unlock = key_pragma(key)

        def unlock_first(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(unlock)  # before any other statement on the connection

        event.listen(engine, "connect", unlock_first)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A 64 MB page cache (the default is 2 MB): type-ahead search reads the search-token
    # indexes (about 50 MB each on 100,000 patients) again on every keystroke.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


class MigrationError(RuntimeError):
    """A migration left rows that break a foreign key; nothing was committed."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (head by default). Safe to call on every start."""
    from alembic import command

    _run_alembic(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _run_alembic(engine, lambda cfg: command.downgrade(cfg, revision))


def schema_is_current(engine: Engine) -> bool:
    """The database is at HEAD_REVISION (read from alembic_version, without Alembic)."""
    return current_revision(engine) == HEAD_REVISION


def _run_alembic(engine: Engine, step: Callable[[AlembicConfig], None]) -> None:
    """Run an Alembic command in one transaction.

    SQLite alters a table by copying it into a new one and dropping the old, which its foreign
    keys forbid while other tables point at it: they are switched off for the migration (this
    can only be done outside a transaction) and every key is checked before the commit.
    """
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                step(cfg)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise MigrationError(
                            f"the migration left {len(broken)} rows with a broken reference "
                            f"(first: {tuple(broken[0])}); the database was not changed")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in alembic_version (None before the first migration).

    Read with plain SQL: importing Alembic costs a tenth of a second at every start.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        versions = [v for (v,) in rows]
    if len(versions) > 1:
        raise RuntimeError(f"the database has several schema heads: {', '.join(versions)}")
    return versions[0] if versions else None


class Database:
    """The engine, a session factory carrying the clock, and the transaction helper."""

    def __init__(
        self,
        url: str,
        clock: Clock | None = None,
        *,
        run_migrations: bool = True,
        echo: bool = False,
        key: str | None = None,
        capture_changes: bool = False,
    ) -> None:
        """`key`: the SQLCipher key of an encrypted SQLite file (services/cache_encryption)."""
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.engine = make_engine(url, echo=echo, key=key)
        #: The copy made before this open upgraded the schema (SQLite files only), if any.
        self.upgrade_backup: Path | None = None
        if run_migrations and not schema_is_current(self.engine):
            from desk_app.services.schema_upgrade import upgrade_schema

            try:
                self.upgrade_backup = upgrade_schema(self.engine, url, self.clock, key)
            except BaseException:
                self.engine.dispose()
                raise
        #: A workstation cache that syncs: every change to a synced table also goes to the
        #: outbox in the same transaction (services/sync/outbox.py).
        self.capture_changes = capture_changes
        info: dict[str, Any] = {"clock": self.clock}
        if capture_changes:
            from desk_app.services.sync import outbox

            info[outbox.CAPTURE_KEY] = True
        self._factory = sessionmaker(self.engine, expire_on_commit=False, info=info)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One use case: commit on success, roll back everything on any error."""
        session = self._factory()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def schema_revision(self) -> str | None:
        return current_revision(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


@event.listens_for(Session, "before_flush")
def _stamp_and_guard(session: Session, _context: Any, _instances: Any) -> None:
    clock: Clock = session.info.get("clock") or SystemClock()
    now = clock.now()
    for obj in session.new:
        if isinstance(obj, Versioned):
            if getattr(obj, "created_at", None) is None:
                obj.created_at = now
            if getattr(obj, "updated_at", None) is None:
                obj.updated_at = now
        elif isinstance(obj, AppendOnly) and getattr(obj, "created_at", None) is None:
            obj.created_at = now
    for obj in session.dirty:
        if isinstance(obj, AppendOnly) and session.is_modified(obj):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are append-only")
        if isinstance(obj, Versioned) and session.is_modified(obj):
            obj.updated_at = now
    for obj in session.deleted:
        if isinstance(obj, AppendOnly):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are never deleted")
