"""A central PostgreSQL for the sync benchmarks: a throwaway cluster (tests/pgcluster.py), or
the server named by DESK_BENCH_PG_URL, and a fast raw copy of a clinic into it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, select

from bench.common import sqlite_url

PG_URL_ENV_VAR = "DESK_BENCH_PG_URL"


@contextmanager
def central_database() -> Iterator[str]:
    """A fresh database migrated to head; its URL. Dropped afterwards."""
    from desk_app.services.db import Database
    from tests.pgcluster import PgCluster

    cluster = PgCluster()
    if os.environ.get(PG_URL_ENV_VAR):
        os.environ.setdefault("DESK_TEST_PG_URL", os.environ[PG_URL_ENV_VAR])
    cluster.start()
    name = f"bench_sync_{uuid.uuid4().hex[:8]}"
    try:
        url = cluster.create_database(name)
        Database(url).dispose()
        yield url
    finally:
        cluster.drop_database(name)
        cluster.stop()


def copy_clinic(path: Path, central_url: str, chunk: int = 20_000) -> int:
    """Copy every synced table of the SQLite clinic at `path` into central, as a clinic that
    has been syncing would hold it (the set-up of the bootstrap benchmark, not timed)."""
    from desk_app.services.sync.tables import synced_tables

    source = create_engine(sqlite_url(path))
    target: Engine = create_engine(central_url)
    copied = 0
    with source.connect() as read, target.begin() as write:
        for table in synced_tables():
            for part in read.execute(select(table)).mappings().partitions(chunk):
                write.execute(insert(table), [dict(r) for r in part])
                copied += len(part)
    source.dispose()
    target.dispose()
    return copied
