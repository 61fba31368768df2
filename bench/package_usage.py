"""The Package & Membership Usage report over 100,000 sold packages and 1,000,000
redemptions, against the same aggregate run as raw SQL.

Builds its own clinic under bench/.data/ (the demo's staff and catalog, 5,000 patients, a
year of visits) with SQLAlchemy Core bulk inserts, kept for later runs. What is timed is what
the Reports window waits for: `PackageReportService.usage` for one month and for the whole
year, with no filter and with a location filter. The baseline replays the exact SQL the
service sent through a plain sqlite3 connection set up like the app's, so the difference is
our Python around it (building rows, names, sorting).

Goal: under 1 s, and within 2x of the raw SQL.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    DATA_DIR,
    Result,
    Row,
    StatementRecorder,
    Stats,
    ms,
    raw_connection,
    sqlite_url,
)

NAME = "package_usage"
RUNS = 15
WARMUP = 2
GOAL_MS = 1000.0
SALES = 100_000
REDEMPTIONS = 1_000_000
PATIENTS = 5_000
START = datetime(2026, 1, 1, 14, 0, tzinfo=UTC)


def build(path: Path, sales: int = SALES, redemptions: int = REDEMPTIONS,
          patients: int = PATIENTS) -> None:
    from sqlalchemy import insert, select

    from desk_app.models import (
        Appointment,
        Invoice,
        Location,
        PackagePlan,
        PackageRedemption,
        PackageSale,
        Patient,
        Staff,
        TreatmentType,
    )
    from desk_app.models.enums import AppointmentStatus, InvoiceStatus, PlanKind, Role
    from desk_app.services.clock import FixedClock
    from desk_app.services.db import Database
    from desk_app.services.demo import create_demo_clinic

    db = Database(sqlite_url(path), FixedClock(START))
    create_demo_clinic(db, patients=0)
    rng = random.Random(7)
    with db.reading() as s:
        clinic_id = s.scalars(select(Location.clinic_id)).first()
        locations = list(s.scalars(select(Location.id)))
        practitioners = list(s.scalars(select(Staff.id).where(Staff.role == Role.PRACTITIONER)))
        treatments = list(s.scalars(select(TreatmentType.id)))
    stamp = {"created_at": START, "updated_at": START, "version": 1}
    with db.engine.begin() as conn:
        patient_ids = [uuid.uuid4() for _ in range(patients)]
        conn.execute(insert(Patient), [
            {"id": pid, "clinic_id": clinic_id, "legal_first_name": f"First{i}",
             "legal_last_name": f"Last{i:05d}", "sort_key": f"last{i:05d} first{i}", **stamp}
            for i, pid in enumerate(patient_ids)])
        plan_ids = []
        for i, (kind, uses) in enumerate([(PlanKind.PACKAGE, 10), (PlanKind.PACKAGE, 20),
                                          (PlanKind.MEMBERSHIP, None)]):
            plan_ids.append(uuid.uuid4())
            conn.execute(insert(PackagePlan), [{
                "id": plan_ids[-1], "clinic_id": clinic_id, "kind": kind, "name": f"Plan {i}",
                "price_cents": 50000, "uses": uses, **stamp}])
        sale_rows, invoice_rows = [], []
        for i in range(sales):
            invoice_id, sold = uuid.uuid4(), START + timedelta(minutes=i * 5)
            plan = rng.randrange(3)
            invoice_rows.append({
                "id": invoice_id, "clinic_id": clinic_id, "patient_id": patient_ids[i % patients],
                "workstation": "BENCH", "seq": i + 1, "issued_at": sold,
                "status": InvoiceStatus.OPEN, "subtotal_cents": 50000, "tax_cents": 0,
                "total_cents": 50000, **stamp})
            sale_rows.append({
                "id": uuid.uuid4(), "clinic_id": clinic_id, "plan_id": plan_ids[plan],
                "patient_id": patient_ids[i % patients], "invoice_id": invoice_id,
                "name": f"Plan {plan}", "price_cents": 50000,
                "uses_total": (10, 20, None)[plan], "sold_at": sold,
                "expires_on": date(2027, 12, 31) if i % 3 else None, **stamp})
        conn.execute(insert(Invoice), invoice_rows)
        conn.execute(insert(PackageSale), sale_rows)
        chunk = 100_000
        for first in range(0, redemptions, chunk):
            appointments, uses = [], []
            for n in range(first, min(first + chunk, redemptions)):
                sale = sale_rows[n % sales]
                when = START + timedelta(minutes=(n * 31) % (365 * 24 * 60))
                appointment_id = uuid.uuid4()
                where, who = rng.choice(locations), rng.choice(practitioners)
                treatment = treatments[n % len(treatments)]
                appointments.append({
                    "id": appointment_id, "clinic_id": clinic_id,
                    "patient_id": sale["patient_id"], "practitioner_id": who,
                    "treatment_type_id": treatment, "location_id": where, "starts_at": when,
                    "ends_at": when + timedelta(hours=1),
                    "status": AppointmentStatus.ARRIVED, **stamp})
                uses.append({
                    "id": uuid.uuid4(), "sale_id": sale["id"], "appointment_id": appointment_id,
                    "patient_id": sale["patient_id"], "treatment_type_id": treatment,
                    "practitioner_id": who, "location_id": where, "visit_at": when, "uses": 1,
                    "created_at": when, "workstation": "BENCH"})
            conn.execute(insert(Appointment), appointments)
            conn.execute(insert(PackageRedemption), uses)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def data_file(sales: int, redemptions: int) -> Path:
    path = DATA_DIR / f"packages-{sales}-{redemptions}.sqlite3"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        build(partial, sales, redemptions)
        partial.rename(path)
    return path


def _replay(raw: Any, statements: list[tuple[str, Any]]) -> None:
    for sql, params in statements:
        raw.execute(sql, params).fetchall()


def run(sales: int = SALES, redemptions: int = REDEMPTIONS, runs: int = RUNS) -> Result:
    from sqlalchemy import select

    from desk_app.models import Location, Staff
    from desk_app.services.auth import actor_for
    from desk_app.services.db import Database
    from desk_app.services.package_reports import UsageFilter
    from desk_app.services.registry import Services

    path = data_file(sales, redemptions)
    db = Database(sqlite_url(path))
    services = Services.build(db)
    with db.reading() as s:
        owner = actor_for(s.scalars(select(Staff).where(Staff.username == "owner")).one(),
                          "BENCH")
        riverside = s.scalars(select(Location.id).where(Location.name == "Riverside")).one()
    raw = raw_connection(path)
    cases = {
        "one month": UsageFilter(date(2026, 6, 1), date(2026, 6, 30)),
        "whole year": UsageFilter(date(2026, 1, 1), date(2026, 12, 31)),
        "whole year, one location": UsageFilter(date(2026, 1, 1), date(2026, 12, 31),
                                                location_id=riverside),
    }
    result = Result(NAME)
    result.details = {"sales": sales, "redemptions": redemptions}
    for label, f in cases.items():
        for _ in range(WARMUP):
            rows = services.package_reports.usage(owner, f)
        with StatementRecorder(db.engine) as recorder:
            rows = services.package_reports.usage(owner, f)
        statements = [(sql, params) for sql, params in recorder.statements
                      if "package_redemption" in sql]
        for _ in range(WARMUP):
            _replay(raw, statements)
        ours: list[float] = []
        base: list[float] = []
        perf = time.perf_counter
        for _ in range(runs):
            t0 = perf()
            services.package_reports.usage(owner, f)
            t1 = perf()
            _replay(raw, statements)
            t2 = perf()
            ours.append(t1 - t0)
            base.append(t2 - t1)
        s_ours, s_base = Stats.of_seconds(ours), Stats.of_seconds(base)
        ratio = s_ours.median / s_base.median if s_base.median else float("inf")
        result.rows.append(Row(
            f"usage report, {label} ({len(rows):,} packages; median)", ms(s_ours.median),
            f"raw SQL {ms(s_base.median)} ({ratio:.2f}x)",
            f"< {GOAL_MS:.0f} ms, < 2x", s_ours.median < GOAL_MS and ratio < 2.0))
        result.details[label] = {"ours": s_ours.as_dict(), "raw_sql": s_base.as_dict(),
                                 "rows": len(rows)}
    raw.close()
    db.dispose()
    return result
