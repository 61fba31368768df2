"""Comparing every cache with central, table by table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from desk_app.models.sync import SyncOutbox
from desk_app.services.sync.tables import synced_tables
from tests.sync_fixtures import SyncWorld

#: Stored differently per backend but equal in meaning.
_IGNORED: set[str] = set()


def snapshot(engine: Any) -> dict[str, set[tuple[Any, ...]]]:
    tables = {}
    with engine.connect() as conn:
        for table in synced_tables():
            rows = set()
            for row in conn.execute(select(table)):
                rows.add(tuple(_norm(v) for v in row))
            tables[table.name] = rows
    return tables


def _norm(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def assert_converged(world: SyncWorld) -> None:
    """Every cache equals central and every outbox is empty."""
    central = world.central
    expected = snapshot(central.engine)
    central.dispose()
    for desk in world.desks:
        with desk.db.reading() as s:
            assert s.scalar(select(func.count()).select_from(SyncOutbox)) == 0, desk.name
        actual = snapshot(desk.db.engine)
        for name, rows in expected.items():
            assert actual[name] == rows, f"{desk.name}: table {name} differs from central"
