"""Opening a profile with 5 years of history, on the 100,000-patient clinic.

The clinic gets one more patient (once, kept in the cache): 500 visits invoiced over five
years and 800 payments applied to them (some invoices paid in two parts, three left owing,
three payments held as credit), written by services.demo.add_patient_with_history under the
ledger's rules. What the profile shows when it opens is timed as one unit: the header and
the Billing tab, `patients.get` + `ledger.billing_summary` (every invoice, payment and
allocation of the five years). The other tabs load when first shown, like Receipts; the
Appointments tab's read (`appointments.for_patient`, 500 visits) is timed on its own. The
baseline runs the exact statements those calls send (recorded with their DBAPI parameters) on
a plain sqlite3 connection with the app's PRAGMAs, fetching every row. The two alternate over
the runs. Garbage collection is the app's (bench.common.AppGarbageCollection).

Goal: under 50 ms to data (the Appointments tab is held to the same goal).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import (
    AppGarbageCollection,
    Result,
    Row,
    StatementRecorder,
    Stats,
    large_db,
    ms,
    open_services,
    raw_connection,
    sqlite_url,
)

NAME = "profile_open"
RUNS = 50
WARMUP = 3
GOAL_MS = 50.0
INVOICES = 500
PAYMENTS = 800
YEARS = 5
HISTORY_LAST_NAME = "Longhistory"


def history_patient(path: Path) -> uuid.UUID:
    """The long-history patient of the cached clinic, added on first use."""
    connection = raw_connection(path)
    found = connection.execute(
        "SELECT id FROM patient WHERE legal_last_name = ?", (HISTORY_LAST_NAME,)
    ).fetchone()
    connection.close()
    if found is not None:
        return uuid.UUID(hex=found[0])
    from desk_app.services.db import Database
    from desk_app.services.demo import add_patient_with_history

    db = Database(sqlite_url(path))
    try:
        return add_patient_with_history(db, invoices=INVOICES, payments=PAYMENTS, years=YEARS)
    finally:
        db.dispose()


def run(path: Path | None = None, runs: int = RUNS) -> Result:
    path = path or large_db()
    patient_id = history_patient(path)
    services, actor = open_services(path)
    raw = raw_connection(path)

    def open_profile() -> Any:
        details = services.patients.get(actor, patient_id)
        summary = services.ledger.billing_summary(actor, patient_id)
        return details, summary

    def appointments_tab() -> Any:
        return services.appointments.for_patient(actor, patient_id)

    for _ in range(WARMUP):
        open_profile()
        appointments_tab()
    with StatementRecorder(services.db.engine) as recorder:
        _details, summary = open_profile()
    statements = recorder.statements
    with StatementRecorder(services.db.engine) as recorder:
        visits = appointments_tab()
    visit_statements = recorder.statements
    for _ in range(WARMUP):
        _run_raw(raw, statements)

    ours: list[float] = []
    base: list[float] = []
    tab: list[float] = []
    tab_base: list[float] = []
    perf = time.perf_counter
    with AppGarbageCollection() as collector:
        for _ in range(runs):
            t0 = perf()
            open_profile()
            t1 = perf()
            _run_raw(raw, statements)
            t2 = perf()
            ours.append(t1 - t0)
            base.append(t2 - t1)
            collector.collect_if_due()
            t0 = perf()
            appointments_tab()
            t1 = perf()
            _run_raw(raw, visit_statements)
            t2 = perf()
            tab.append(t1 - t0)
            tab_base.append(t2 - t1)
            collector.collect_if_due()
    raw.close()
    services.db.dispose()

    s_ours, s_base = Stats.of_seconds(ours), Stats.of_seconds(base)
    s_tab, s_tab_base = Stats.of_seconds(tab), Stats.of_seconds(tab_base)
    result = Result(NAME)
    result.rows = [
        Row(
            "profile open, 5 years (median)",
            ms(s_ours.median),
            f"raw SQL {ms(s_base.median)}",
            f"< {GOAL_MS:g} ms",
            s_ours.median < GOAL_MS,
        ),
        Row(
            "profile open, 5 years (p99)",
            ms(s_ours.p99),
            f"raw SQL {ms(s_base.p99)}",
            f"< {GOAL_MS:g} ms",
            s_ours.p99 < GOAL_MS,
        ),
        Row(
            "Appointments tab first shown, 500 visits (median)",
            ms(s_tab.median),
            f"raw SQL {ms(s_tab_base.median)}",
            f"< {GOAL_MS:g} ms",
            s_tab.median < GOAL_MS,
        ),
        collector.pause_row(),
    ]
    result.details = {
        "database": str(path),
        "runs": runs,
        "patient": {
            "invoices": len(summary.invoices),
            "payments": len(summary.payments),
            "allocations": len(summary.allocations),
            "appointments": len(visits.upcoming) + len(visits.history),
            "owing_cents": summary.balance.owing_cents,
            "credit_cents": summary.balance.credit_cents,
        },
        "statements_per_open": len(statements),
        "service": s_ours.as_dict(),
        "raw_sql": s_base.as_dict(),
        "ratio_median": round(s_ours.median / s_base.median, 3),
        "appointments_tab": s_tab.as_dict(),
        "appointments_tab_raw_sql": s_tab_base.as_dict(),
    }
    return result


def _run_raw(connection: Any, statements: list[tuple[str, Any]]) -> None:
    for sql, params in statements:
        connection.execute(sql, params).fetchall()
