"""The Package & Membership Usage report over 100,000 sold packages and 1,000,000
redemptions, against the same aggregate run as raw SQL.

Builds its own clinic under bench/.data/ (the demo's staff and catalog, 5,000 patients, a
year of visits) with SQLAlchemy Core bulk inserts, kept for later runs. What is timed is what
the Reports window waits for: `PackageReportService.usage` for one month and for the whole
year, with no filter and with a location filter. The baseline replays every statement the
service sent (all but its read of the clinic's time zone) through a plain sqlite3 connection
set up like the app's, so the difference is our Python around it (building rows, names,
sorting). A second reference runs the same report as one plain SQL statement, the way it is
first written (TEXTBOOK_SQL): it returns the same rows. Wall and CPU time (process time) are
both recorded: on a loaded machine the wall time is mostly waiting for a core. Garbage
collection is the app's (bench.common.AppGarbageCollection).

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
    AppGarbageCollection,
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


def _hex() -> str:
    return uuid.uuid4().hex


def _when(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores DateTime on SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _load(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """executemany on the DBAPI connection, rows completed with the columns' scalar defaults
    (values already in storage form: hex ids, text times, 0/1 flags, enum values)."""
    columns = [c for c in table.columns]
    filled = []
    for row in rows:
        values = []
        for column in columns:
            if column.name in row:
                values.append(row[column.name])
            elif column.default is not None and column.default.is_scalar:
                value = column.default.arg
                values.append(int(value) if isinstance(value, bool) else
                              getattr(value, "value", value))
            else:
                values.append(None)
        filled.append(values)
    names = ", ".join(f'"{c.name}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    connection.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', filled)


def build(path: Path, sales: int = SALES, redemptions: int = REDEMPTIONS,
          patients: int = PATIENTS) -> None:
    """The clinic through the app (schema, staff, catalog), then the bulk rows through plain
    sqlite3 in storage form with the secondary indexes re-created afterwards (as
    `desk-app seed` does for large clinics)."""
    from sqlalchemy import select

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
    from desk_app.models.enums import Role
    from desk_app.services.clock import FixedClock
    from desk_app.services.db import Database
    from desk_app.services.demo import create_demo_clinic

    db = Database(sqlite_url(path), FixedClock(START))
    create_demo_clinic(db, patients=0)
    rng = random.Random(7)
    with db.reading() as s:
        clinic_id = s.scalars(select(Location.clinic_id)).first().hex  # type: ignore[union-attr]
        locations = [i.hex for i in s.scalars(select(Location.id))]
        practitioners = [i.hex for i in s.scalars(
            select(Staff.id).where(Staff.role == Role.PRACTITIONER))]
        treatments = [i.hex for i in s.scalars(select(TreatmentType.id))]
    db.dispose()
    now = _when(START)
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    raw = raw_connection(path)
    raw.execute("PRAGMA journal_mode=MEMORY")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA foreign_keys=OFF")
    big = ("appointment", "package_redemption", "invoice", "package_sale")
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
        f"tbl_name IN ({', '.join('?' for _ in big)})", big).fetchall()
    for name, _sql in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    patient_ids = [_hex() for _ in range(patients)]
    _load(raw, Patient.__table__, [
        {"id": pid, "clinic_id": clinic_id, "legal_first_name": f"First{i}",
         "legal_last_name": f"Last{i:05d}", "sort_key": f"last{i:05d} first{i}", **stamp}
        for i, pid in enumerate(patient_ids)])
    plans = [(_hex(), "package", 10), (_hex(), "package", 20), (_hex(), "membership", None)]
    _load(raw, PackagePlan.__table__, [
        {"id": pid, "clinic_id": clinic_id, "kind": kind, "name": f"Plan {i}",
         "price_cents": 50000, "uses": uses, **stamp}
        for i, (pid, kind, uses) in enumerate(plans)])
    sale_ids, sale_patients, invoices, sold = [], [], [], []
    for i in range(sales):
        sale_id, invoice_id, plan = _hex(), _hex(), rng.randrange(3)
        patient = patient_ids[i % patients]
        when = _when(START + timedelta(minutes=i * 5))
        invoices.append({
            "id": invoice_id, "clinic_id": clinic_id, "patient_id": patient,
            "workstation": "BENCH", "seq": i + 1, "issued_at": when, "status": "open",
            "subtotal_cents": 50000, "tax_cents": 0, "total_cents": 50000, **stamp})
        sold.append({
            "id": sale_id, "clinic_id": clinic_id, "plan_id": plans[plan][0],
            "patient_id": patient, "invoice_id": invoice_id, "name": f"Plan {plan}",
            "price_cents": 50000, "uses_total": plans[plan][2], "sold_at": when,
            "expires_on": "2027-12-31" if i % 3 else None, **stamp})
        sale_ids.append(sale_id)
        sale_patients.append(patient)
    _load(raw, Invoice.__table__, invoices)
    _load(raw, PackageSale.__table__, sold)
    chunk = 100_000
    for first in range(0, redemptions, chunk):
        appointments, uses = [], []
        for n in range(first, min(first + chunk, redemptions)):
            sale = n % sales
            moment = START + timedelta(minutes=(n * 31) % (365 * 24 * 60))
            when, ends = _when(moment), _when(moment + timedelta(hours=1))
            appointment_id = _hex()
            where, who = rng.choice(locations), rng.choice(practitioners)
            treatment = treatments[n % len(treatments)]
            appointments.append({
                "id": appointment_id, "clinic_id": clinic_id, "patient_id": sale_patients[sale],
                "practitioner_id": who, "treatment_type_id": treatment, "location_id": where,
                "starts_at": when, "ends_at": ends, "status": "arrived", **stamp})
            uses.append({
                "id": _hex(), "sale_id": sale_ids[sale], "appointment_id": appointment_id,
                "patient_id": sale_patients[sale], "treatment_type_id": treatment,
                "practitioner_id": who, "location_id": where, "visit_at": when, "uses": 1,
                "created_at": when, "workstation": "BENCH"})
        _load(raw, Appointment.__table__, appointments)
        _load(raw, PackageRedemption.__table__, uses)
    for _name, sql in indexes:
        raw.execute(sql)
    raw.commit()
    raw.execute("ANALYZE")
    raw.execute("PRAGMA journal_mode=WAL")
    raw.close()


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


#: The same report as one plain SQL statement, as anyone would first write it: the period's
#: uses per package, joined to the package, its patient and plan, with each package's uses to
#: date. Same rows and columns as the service's result (the service sorts them by the
#: patient's name in Python, as SQLite cannot lower-case accented names).
TEXTBOOK_SQL = """
SELECT s.id, pa.legal_first_name, pa.legal_last_name, pa.preferred_name, s.name, pl.kind, p.n,
       (SELECT sum(r.uses) FROM package_redemption AS r WHERE r.sale_id = s.id) AS to_date,
       s.uses_total, s.expires_on
FROM (SELECT sale_id, sum(uses) AS n FROM package_redemption
      WHERE visit_at >= :lo AND visit_at < :hi AND (:location IS NULL OR location_id = :location)
      GROUP BY sale_id) AS p
JOIN package_sale AS s ON s.id = p.sale_id
JOIN patient AS pa ON pa.id = s.patient_id
JOIN package_plan AS pl ON pl.id = s.plan_id
WHERE p.n != 0 AND s.clinic_id = :clinic
"""


def _textbook_params(db: Any, f: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from desk_app.models import Clinic
    from desk_app.services.package_reports import _utc_range

    with db.reading() as s:
        clinic_id, time_zone = s.execute(select(Clinic.id, Clinic.time_zone)).one()
    lo, hi = _utc_range(f.start, f.end, time_zone)
    return {"lo": _when(lo), "hi": _when(hi), "clinic": clinic_id.hex,
            "location": f.location_id.hex if f.location_id else None}


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
    perf, cpu = time.perf_counter, time.process_time
    for label, f in cases.items():
        for _ in range(WARMUP):
            rows = services.package_reports.usage(owner, f)
        with StatementRecorder(db.engine) as recorder:
            rows = services.package_reports.usage(owner, f)
        # Everything the report sent but its first read of the clinic's time zone.
        statements = [(sql, params) for sql, params in recorder.statements
                      if "FROM clinic" not in sql]
        textbook = [(TEXTBOOK_SQL, _textbook_params(db, f))]
        assert len(raw.execute(TEXTBOOK_SQL, textbook[0][1]).fetchall()) == len(rows)
        for _ in range(WARMUP):
            _replay(raw, statements)
            _replay(raw, textbook)
        times: dict[str, list[float]] = {k: [] for k in (
            "ours", "raw", "textbook", "ours_cpu", "raw_cpu", "textbook_cpu")}
        with AppGarbageCollection() as collector:
            for _ in range(runs):
                for key, call, args in (
                        ("ours", services.package_reports.usage, (owner, f)),
                        ("raw", _replay, (raw, statements)),
                        ("textbook", _replay, (raw, textbook))):
                    t0, c0 = perf(), cpu()
                    call(*args)
                    times[key].append(perf() - t0)
                    times[key + "_cpu"].append(cpu() - c0)
                    collector.collect_if_due()
        stats = {k: Stats.of_seconds(v) for k, v in times.items()}
        ratio = stats["ours"].median / stats["raw"].median
        cpu_ratio = stats["ours_cpu"].median / stats["raw_cpu"].median
        result.rows.append(Row(
            f"usage report, {label} ({len(rows):,} packages; median)",
            f"{ms(stats['ours'].median)} (CPU {ms(stats['ours_cpu'].median)})",
            f"same SQL raw {ms(stats['raw'].median)} ({ratio:.2f}x; CPU "
            f"{ms(stats['raw_cpu'].median)}, {cpu_ratio:.2f}x); one-statement SQL "
            f"{ms(stats['textbook'].median)}",
            f"< {GOAL_MS:.0f} ms, < 2x", stats["ours"].median < GOAL_MS and ratio < 2.0))
        result.details[label] = {**{k: v.as_dict() for k, v in stats.items()},
                                 "rows": len(rows), "ratio": round(ratio, 3),
                                 "cpu_ratio": round(cpu_ratio, 3),
                                 "statements": len(statements)}
    raw.close()
    db.dispose()
    return result
