"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from desk_app.models import Base
from desk_app.services.db import alembic_config, head_revision, make_engine, migrate
from tests.pgcluster import PgCluster


def _diff(engine) -> list[object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def _check_round_trip(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    assert _diff(engine) == []
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    engine.dispose()


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    _check_round_trip(f"sqlite:///{tmp_path / 'm.sqlite3'}")


@pytest.mark.pg
def test_migrations_match_the_models_on_postgresql(pg_cluster: PgCluster) -> None:
    name = f"desk_migrations_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(name)
    try:
        _check_round_trip(url)
    finally:
        pg_cluster.drop_database(name)
