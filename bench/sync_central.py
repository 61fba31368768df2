"""A central PostgreSQL for the sync benchmarks: a throwaway cluster (tests/pgcluster.py), or
the server named by DESK_BENCH_PG_URL, and a fast raw copy of a clinic into it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_URL_ENV_VAR = "DESK_BENCH_PG_URL"


@contextmanager
def central_database(clinic: Path | None = None) -> Iterator[str]:
    """A fresh database migrated to head; its URL. Dropped afterwards.

    With ``clinic`` (a seeded SQLite clinic) it also holds that clinic's synced rows. On a
    server named by DESK_BENCH_PG_URL, the seeded database is kept as a template
    (``bench_seed_<file>_<revision>``) and later runs copy it in seconds."""
    from desk_app.services.db import HEAD_REVISION, Database
    from tests.pgcluster import PgCluster

    cluster = PgCluster()
    if os.environ.get(PG_URL_ENV_VAR):
        os.environ.setdefault("DESK_TEST_PG_URL", os.environ[PG_URL_ENV_VAR])
    cluster.start()
    name = f"bench_sync_{uuid.uuid4().hex[:8]}"
    try:
        if clinic is None:
            url = cluster.create_database(name)
            Database(url).dispose()
        elif os.environ.get(PG_URL_ENV_VAR):
            template = re.sub(r"[^a-z0-9_]", "_",
                              f"bench_seed_{clinic.stem}_{HEAD_REVISION}".lower())[:60]
            if not _exists(cluster, template):
                seeding = cluster.create_database(template + "_part")
                Database(seeding).dispose()
                copy_clinic(clinic, seeding)
                _admin(cluster, f'ALTER DATABASE "{template}_part" RENAME TO "{template}"')
            url = cluster.create_database(name, template=template)
        else:
            url = cluster.create_database(name)
            Database(url).dispose()
            copy_clinic(clinic, url)
        yield url
    finally:
        cluster.drop_database(name)
        cluster.stop()


def _exists(cluster: Any, name: str) -> bool:
    return bool(_admin(cluster, "SELECT 1 FROM pg_database WHERE datname = %s", name))


def _admin(cluster: Any, statement: str, *params: object) -> list[tuple[Any, ...]]:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(cluster.url_for("postgres"))
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname="postgres",
                         autocommit=True) as conn:
        cursor = conn.execute(statement.encode(), params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def copy_clinic(path: Path, central_url: str) -> int:
    """Copy every synced table of the SQLite clinic at `path` into central, as a clinic that
    has been syncing would hold it (the set-up of the bootstrap benchmark, not timed).

    Rows go from sqlite3 (storage form: UUIDs as 32 hex digits, times as text) straight into
    PostgreSQL's COPY, which parses those forms itself: millions of rows in about a minute."""
    import sqlite3

    import psycopg
    from sqlalchemy.engine import make_url

    from desk_app.services.sync.tables import synced_tables

    url = make_url(central_url)
    source = sqlite3.connect(path)
    copied = 0
    with psycopg.connect(host=url.host, port=url.port, user=url.username,
                         dbname=url.database) as target:
        target.execute("SET TIME ZONE 'UTC'")
        for table in synced_tables():
            names = ", ".join(f'"{c.name}"' for c in table.columns)
            rows = source.execute(f'SELECT {names} FROM "{table.name}"')
            with target.cursor().copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    copied += 1
    source.close()
    return copied
