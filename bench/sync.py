"""Sync throughput: push 10,000 changes and pull 100,000 rows, next to raw psycopg.

- push: 10,000 cash payments written on a workstation (each in the outbox), pushed to central
  by `SyncClient.push_once` in batches. Baseline: the same rows inserted into central's
  payment table with psycopg executemany.
- pull: 100,000 rows changed on central (patients and payments, with change-log entries),
  pulled into a bootstrapped cache by `SyncClient.pull_once`. Baseline: the same rows read
  with psycopg and written with sqlite3 executemany.

Goal: each within 3x of its baseline. `run(scale=0.05)` runs 5 % of the sizes (a quick check).
"""

from __future__ import annotations

import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from bench.bootstrap import clinic, empty_cache, raw_copy
from bench.common import DATA_DIR, Result, Row, sqlite_url
from bench.sync_central import central_database

NAME = "sync"
PUSH_ROWS = 10_000
PULL_ROWS = 100_000
GOAL_FACTOR = 3.0


def run(scale: float = 1.0) -> Result:
    from desk_app.models import Patient, Payment, PaymentMethod
    from desk_app.models.sync import SyncChangeLog
    from desk_app.services.clock import SystemClock
    from desk_app.services.db import Database
    from desk_app.services.sync.client import SyncClient

    push_rows, pull_rows = int(PUSH_ROWS * scale), int(PULL_ROWS * scale)
    work = DATA_DIR / "sync"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    source = clinic(300)
    result = Result(NAME)
    with central_database(source) as url:
        engine = create_engine(url)
        cache = empty_cache(work)
        db = Database(sqlite_url(cache), SystemClock(), run_migrations=False,
                      capture_changes=True)
        client = SyncClient(db, engine, "BENCH", push_batch=2000, pull_batch=5000)
        client.sync_once()
        with db.reading() as s:
            patient = s.scalars(select(Patient)).first()
            assert patient is not None
            clinic_id, patient_id = patient.clinic_id, patient.id
        now = datetime.now(UTC)

        def payment_row() -> dict[str, object]:
            return {"id": uuid.uuid4(), "clinic_id": clinic_id, "patient_id": patient_id,
                    "location_id": None, "method": PaymentMethod.CASH, "amount_cents": 100,
                    "received_at": now, "created_at": now, "workstation": "BENCH",
                    "collected_by_staff_id": None}

        # -- push ---------------------------------------------------------------------------
        with db.transaction() as s:
            for _ in range(push_rows):
                s.add(Payment(**payment_row()))  # type: ignore[arg-type]
        started = time.perf_counter()
        while client.push_once() is not None:
            pass
        push_s = time.perf_counter() - started
        rows = [payment_row() for _ in range(push_rows)]
        with engine.begin() as conn:
            started = time.perf_counter()
            conn.execute(insert(Payment), rows)
            push_base = time.perf_counter() - started

        # -- pull ---------------------------------------------------------------------------
        with engine.begin() as conn:
            ids = [row["id"] for row in rows]
            more = [payment_row() for _ in range(max(0, pull_rows - len(ids)))]
            if more:
                conn.execute(insert(Payment), more)
            ids += [row["id"] for row in more]
            conn.execute(insert(SyncChangeLog).values(
                txid=text("pg_current_xact_id()::text::bigint")),
                [{"table_name": "payment", "row_key": str(i), "origin": "OTHER"} for i in ids])
        started = time.perf_counter()
        while not client.pull_once().caught_up:
            pass
        pull_s = time.perf_counter() - started
        pull_base = raw_pull(url, empty_cache(work / "base") if _mk(work / "base") else cache)
        db.dispose()
        engine.dispose()
    result.rows.append(Row(f"push {push_rows:,} changes", f"{push_s:.2f} s",
                           f"{push_base:.2f} s executemany", f"< {GOAL_FACTOR:.0f}x",
                           push_s < GOAL_FACTOR * push_base if scale >= 1 else None))
    result.rows.append(Row(f"pull {len(ids):,} rows", f"{pull_s:.2f} s",
                           f"{pull_base:.2f} s psycopg + sqlite3", f"< {GOAL_FACTOR:.0f}x",
                           pull_s < GOAL_FACTOR * pull_base if scale >= 1 else None))
    result.details = {"push_rows": push_rows, "pull_rows": len(ids), "push_s": push_s,
                      "push_baseline_s": push_base, "pull_s": pull_s,
                      "pull_baseline_s": pull_base, "scale": scale}
    return result


def _mk(folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return True


def raw_pull(url: str, cache: Path) -> float:
    """Central's payment table (the pulled rows and the clinic's own payments) copied raw."""
    return raw_copy(url, cache, only={"payment"})
