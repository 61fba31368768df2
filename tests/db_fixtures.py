"""Database fixtures: a migrated template and a demo clinic, built once and copied per test.

Copying a file is far faster than running migrations or seeding for every test (Anki's
pylib/tests/shared.py does the same).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from desk_app.models import Patient, Staff
from desk_app.services.actor import Actor
from desk_app.services.auth import actor_for
from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from desk_app.services.registry import Services

#: The moment every test starts at: a Saturday afternoon in Toronto.
TEST_NOW = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)


def _copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "empty.sqlite3"
    db = Database(f"sqlite:///{path}", FixedClock(TEST_NOW))
    db.dispose()
    return path


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    db = Database(f"sqlite:///{path}", FixedClock(TEST_NOW))
    create_demo_clinic(db, patients=120)
    db.dispose()
    return path


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[Database]:
    """An empty, migrated SQLite database of this test's own."""
    db = Database(_copy_sqlite(sqlite_template, tmp_path / "t.sqlite3"), clock,
                  run_migrations=False)
    yield db
    db.dispose()


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[Database]:
    """The demo clinic (120 patients) in a SQLite database of this test's own."""
    db = Database(_copy_sqlite(demo_template, tmp_path / "demo.sqlite3"), clock,
                  run_migrations=False)
    yield db
    db.dispose()


@pytest.fixture
def demo_services(demo_db: Database) -> Services:
    return Services.build(demo_db)


def actor_named(db: Database, username: str, workstation: str = "DESK1") -> Actor:
    with db.reading() as s:
        staff = s.scalars(select(Staff).where(Staff.username == username)).one()
        return actor_for(staff, workstation)


@pytest.fixture
def front_desk(demo_db: Database) -> Actor:
    """Sam Lee, Front Desk, with the Billing permission (the demo receptionist)."""
    return actor_named(demo_db, "frontdesk")


@pytest.fixture
def maddy_id(demo_db: Database) -> object:
    """The demo's first patient: Madeleine 'Maddy' Ødegård-Nguyễn, with a balance and credit."""
    with demo_db.reading() as s:
        return s.scalars(select(Patient.id).where(Patient.preferred_name == "Maddy",
                                                  Patient.legal_first_name == "Madeleine")).one()


@pytest.fixture(scope="session")
def pg_migrated_url(pg_database_url: str) -> str:
    """The session's PostgreSQL database, migrated to head once."""
    Database(pg_database_url, FixedClock(TEST_NOW)).dispose()
    return pg_database_url


def _truncate_all(db: Database) -> None:
    from sqlalchemy import text

    from desk_app.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path,
       clock: FixedClock) -> Iterator[Database]:
    """An empty migrated database: once on SQLite, once on the throwaway PostgreSQL."""
    if request.param == "sqlite":
        database = Database(_copy_sqlite(sqlite_template, tmp_path / "t.sqlite3"), clock,
                            run_migrations=False)
    else:
        url = request.getfixturevalue("pg_migrated_url")
        database = Database(url, clock, run_migrations=False)
        _truncate_all(database)
    yield database
    database.dispose()
