"""A new workstation bootstraps from the central database: the large clinic copied into an
empty cache, in resumable pages, with search tokens (and their name-ordered prefixes) rebuilt.

Set-up (not timed): the seeded clinic (bench.common.large_db, 100,000 patients) is copied
raw into a throwaway PostgreSQL. Timed: `SyncClient.bootstrap` into a freshly migrated SQLite
cache, as the progress dialog runs it. Baseline: the same rows read with psycopg and written
with sqlite3 executemany, no sync bookkeeping and no search tokens.

Goal: under 60 s for the large clinic on this machine. `run(patients=N)` runs a smaller clinic
(the tests and a quick check do); `./dev bench bootstrap` runs the full size.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.common import DATA_DIR, Result, Row, large_db, run_seed, sqlite_url
from bench.sync_central import central_database

NAME = "bootstrap"
GOAL_S = 60.0


def clinic(patients: int | None) -> Path:
    if patients is None:
        return large_db()
    path = DATA_DIR / f"clinic-{patients}.sqlite3"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        run_seed(path, patients)
    return path


def empty_cache(folder: Path) -> Path:
    from desk_app.services.db import Database

    path = folder / "bootstrap-cache.sqlite3"
    for leftover in folder.glob(path.name + "*"):
        leftover.unlink()
    Database(sqlite_url(path)).dispose()
    return path


def raw_copy(central_url: str, cache: Path, only: set[str] | None = None) -> float:
    """The baseline: psycopg reads each table (or those in `only`), sqlite3 executemany
    writes it."""
    import sqlite3

    import psycopg
    from sqlalchemy.engine import make_url

    from desk_app.services.sync.tables import synced_tables

    url = make_url(central_url)
    started = time.perf_counter()
    target = sqlite3.connect(cache)
    with psycopg.connect(host=url.host, port=url.port, user=url.username,
                         dbname=url.database) as source:
        for table in synced_tables():
            if only is not None and table.name not in only:
                continue
            names = [c.name for c in table.columns]
            marks = ", ".join("?" for _ in names)
            with source.cursor(name=f"copy_{table.name}") as cursor:
                cursor.execute(f'SELECT {", ".join(names)} FROM "{table.name}"')
                while rows := cursor.fetchmany(5000):
                    target.executemany(
                        f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({marks})',
                        [tuple(_sqlite(v) for v in row) for row in rows])
    target.commit()
    target.close()
    return time.perf_counter() - started


def _sqlite(value: object) -> object:
    import uuid
    from datetime import datetime

    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def run(patients: int | None = None) -> Result:
    from sqlalchemy import create_engine

    from desk_app.models import Patient, PatientSearchPrefix, PatientSearchToken
    from desk_app.services.clock import SystemClock
    from desk_app.services.db import Database
    from desk_app.services.sync.client import SyncClient
    from desk_app.services.sync.tables import synced_tables

    source = clinic(patients)
    work = DATA_DIR / "bootstrap"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result = Result(NAME)
    print("bench: central with the clinic (seeded once per server with DESK_BENCH_PG_URL)…",
          file=sys.stderr, flush=True)
    with central_database(source) as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = sum(int(conn.scalar(select(func.count()).select_from(t)) or 0)
                       for t in synced_tables())
            ledger = sum(int(conn.scalar(select(func.count()).select_from(t)) or 0)
                         for t in synced_tables()
                         if t.name in ("invoice", "invoice_line", "payment", "allocation",
                                       "refund"))
        baseline = raw_copy(url, empty_cache(work))
        cache = empty_cache(work)
        db = Database(sqlite_url(cache), SystemClock(), run_migrations=False,
                      capture_changes=True)
        client = SyncClient(db, engine, "BENCH")
        pages = 0

        def progress(_p: object) -> None:
            nonlocal pages
            pages += 1

        started, cpu = time.perf_counter(), time.process_time()
        client.bootstrap(progress)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        with db.reading() as s:
            copied_patients = s.scalar(select(func.count()).select_from(Patient))
            tokens = s.scalar(select(func.count()).select_from(PatientSearchToken))
            prefixes = s.scalar(select(func.count()).select_from(PatientSearchPrefix))
        db.dispose()
        engine.dispose()
    result.rows.append(Row(
        f"bootstrap {copied_patients:,} patients, {ledger:,} ledger rows ({rows:,} rows, "
        f"{rows / seconds:,.0f} rows/s)",
        f"{seconds:.1f} s", f"{baseline:.1f} s raw copy ({seconds / baseline:.2f}x)",
        f"< {GOAL_S:.0f} s",
        seconds < GOAL_S if patients is None else None))
    result.details = {"patients": copied_patients, "rows": rows, "ledger_rows": ledger,
                      "search_tokens": tokens, "search_prefixes": prefixes, "pages": pages,
                      "seconds": round(seconds, 2), "python_cpu_seconds": round(cpu, 2),
                      "baseline_seconds": round(baseline, 2), "scale": patients or "large"}
    return result
