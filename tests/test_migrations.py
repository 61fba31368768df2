"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from desk_app.models import Base
from desk_app.services.db import (
    HEAD_REVISION,
    Database,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    schema_is_current,
)
from desk_app.services.demo import create_demo_clinic
from tests.pgcluster import PgCluster
from tests.search_rows_check import assert_prefixes_follow_tokens, stored_prefix_rows


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it yet: a SQLite file, or a PostgreSQL one made
    on the throwaway cluster and dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"desk_migrations_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database(name)
    try:
        yield url
    finally:
        cluster.drop_database(name)


def _diff(engine) -> list[object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_migrations_match_the_models(empty_database: str) -> None:
    engine = make_engine(empty_database)
    migrate(engine)
    assert _diff(engine) == []
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    engine.dispose()


KEPT = {"patient", "invoice", "invoice_line", "payment", "allocation", "appointment", "staff"}


def _counts(db: Database) -> dict[str, int]:
    with db.reading() as s:
        return {t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables if t.name in KEPT}


def test_upgrading_a_clinic_with_history_keeps_every_row(tmp_path: Path) -> None:
    """Every migration since 0001 runs on a database full of ledger rows (SQLite rebuilds
    tables to alter them, which its foreign keys would refuse)."""
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    create_demo_clinic(db, patients=40)
    before = _counts(db)
    assert before["allocation"] > 0
    expected_prefixes = stored_prefix_rows(db)
    downgrade(db.engine, "0001")
    migrate(db.engine)
    assert _counts(db) == before
    assert _diff(db.engine) == []
    assert stored_prefix_rows(db) == expected_prefixes  # rebuilt from the tokens by 0008
    assert_prefixes_follow_tokens(db)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_the_head_revision_constant_is_alembics_head() -> None:
    """Database skips Alembic when a database is at HEAD_REVISION: a new migration must move it."""
    assert head_revision() == HEAD_REVISION


def test_a_database_behind_the_head_is_migrated_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    engine = make_engine(url)
    assert not schema_is_current(engine)  # no alembic_version table yet
    migrate(engine, "0003")
    assert not schema_is_current(engine)
    engine.dispose()
    db = Database(url)
    assert schema_is_current(db.engine)
    assert db.schema_revision() == HEAD_REVISION
    db.dispose()


NOTICE_TABLES = {"billing_notice", "notice_settings", "staff_notification"}


def test_billing_notices_migration_steps_down_and_up(empty_database: str) -> None:
    """0005 (billing notices) alone: down to 0004 drops its tables, up brings them back."""
    engine = make_engine(empty_database)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= NOTICE_TABLES
    downgrade(engine, "0004")
    assert not NOTICE_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= NOTICE_TABLES
    engine.dispose()


PACKAGE_TABLES = {"package_plan", "package_plan_item", "package_sale", "package_sale_item",
                  "package_redemption", "household_member", "membership", "desk_notice"}


def test_the_packages_migration_goes_down_to_0005_and_back(empty_database: str) -> None:
    engine = make_engine(empty_database)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= PACKAGE_TABLES
    downgrade(engine, "0005")
    assert not PACKAGE_TABLES & set(inspect(engine).get_table_names())
    assert "invoice" in inspect(engine).get_table_names()
    migrate(engine)
    assert _diff(engine) == []
    engine.dispose()


SYNC_TABLES = {"sync_outbox", "sync_state", "sync_change_log", "sync_push_receipt", "sync_meta",
               "sync_conflict", "sync_workstation"}


def test_the_sync_migration_up_and_down(empty_database: str) -> None:
    engine = make_engine(empty_database)
    migrate(engine, "0006")
    assert not SYNC_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= SYNC_TABLES
    downgrade(engine, "0006")
    assert not SYNC_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert _diff(engine) == []
    engine.dispose()


PARTY_TABLES = {"appointment_participant"}


def test_the_group_appointments_migration_up_and_down(empty_database: str) -> None:
    """0010 alone: down to 0007 drops participants and the appointment's kind; an
    appointment booked before it is an individual one after it."""
    engine = make_engine(empty_database)
    migrate(engine, "0007")
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= PARTY_TABLES
    assert "kind" in {c["name"] for c in inspect(engine).get_columns("appointment")}
    downgrade(engine, "0007")
    assert not PARTY_TABLES & set(inspect(engine).get_table_names())
    assert "kind" not in {c["name"] for c in inspect(engine).get_columns("appointment")}
    migrate(engine)
    assert _diff(engine) == []
    engine.dispose()


def test_the_sync_heartbeat_migration_up_and_down(empty_database: str) -> None:
    engine = make_engine(empty_database)
    migrate(engine)
    assert "sync_workstation" in inspect(engine).get_table_names()
    downgrade(engine, "0007")
    assert "sync_workstation" not in inspect(engine).get_table_names()
    assert "ix_sync_push_receipt_pushed_at" not in {
        i["name"] for i in inspect(engine).get_indexes("sync_push_receipt")}
    migrate(engine)
    assert _diff(engine) == []
    engine.dispose()


def test_appointments_booked_before_0010_are_individual(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    create_demo_clinic(db, patients=10)
    downgrade(db.engine, "0007")
    migrate(db.engine)
    with db.engine.connect() as conn:
        kinds = set(conn.exec_driver_sql("SELECT DISTINCT kind FROM appointment").scalars())
    assert kinds == {"individual"}
    db.dispose()
