"""What every benchmark shares: the cached 100k clinic, statistics, results and the table.

The cache lives in bench/.data/ (gitignored) and results in bench/results/<name>.json (also
gitignored). Delete bench/.data/ to start from scratch.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"
RESULTS_DIR = BENCH_DIR / "results"

LARGE_PATIENTS = 100_000
LARGE_DB = DATA_DIR / f"clinic-{LARGE_PATIENTS // 1000}k.sqlite3"
SEED_LOG = DATA_DIR / "seed.json"

# The staff member every benchmark acts as: Front Desk with the Billing permission.
BENCH_USERNAME = "frontdesk"
BENCH_WORKSTATION = "BENCH"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def run_seed(path: Path, patients: int, seed: int = 7) -> float:
    """`desk-app seed` in a fresh process, as a user would run it; returns wall seconds."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "desk_app",
            "seed",
            "--patients",
            str(patients),
            "--db",
            str(path),
            "--seed",
            str(seed),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def large_db() -> Path:
    """The 100,000-patient clinic, built on first use (about half a minute) and kept."""
    if LARGE_DB.exists():
        return LARGE_DB
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = LARGE_DB.with_name(LARGE_DB.name + ".partial")
    for leftover in DATA_DIR.glob(partial.name + "*"):
        leftover.unlink()
    print(f"bench: building {LARGE_DB.name} ({LARGE_PATIENTS:,} patients)…", file=sys.stderr)
    seconds = run_seed(partial, LARGE_PATIENTS)
    partial.rename(LARGE_DB)
    SEED_LOG.write_text(
        json.dumps({"patients": LARGE_PATIENTS, "seconds": round(seconds, 2)}, indent=2)
    )
    print(f"bench: built in {seconds:.1f} s", file=sys.stderr)
    return LARGE_DB


@dataclass(frozen=True)
class Stats:
    """Summary of timings in milliseconds."""

    n: int
    median: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of_seconds(cls, samples: Sequence[float]) -> Stats:
        ms = sorted(s * 1000.0 for s in samples)
        return cls(
            n=len(ms),
            median=statistics.median(ms),
            p95=percentile(ms, 95),
            p99=percentile(ms, 99),
            max=ms[-1],
            mean=statistics.fmean(ms),
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "n": self.n,
            "median_ms": round(self.median, 3),
            "p95_ms": round(self.p95, 3),
            "p99_ms": round(self.p99, 3),
            "max_ms": round(self.max, 3),
            "mean_ms": round(self.mean, 3),
        }


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        raise ValueError("no samples")
    rank = max(1, -(-len(sorted_values) * pct // 100))  # ceil(n * pct / 100)
    return float(sorted_values[int(rank) - 1])


@dataclass
class Row:
    """One line of the summary table."""

    metric: str
    ours: str
    baseline: str
    goal: str
    passed: bool | None  # None: informational

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "ours": self.ours,
            "baseline": self.baseline,
            "goal": self.goal,
            "passed": self.passed,
        }


@dataclass
class Result:
    name: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
            "summary": [r.as_dict() for r in self.rows],
            **self.details,
        }


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2),
    }


def save(result: Result) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{result.name}.json"
    path.write_text(json.dumps(result.as_dict(), indent=2, default=str) + "\n")
    return path


def verdict(passed: bool | None) -> str:
    return "" if passed is None else ("pass" if passed else "FAIL")


def print_table(results: Sequence[Result]) -> None:
    header = ("benchmark", "metric", "ours", "baseline", "goal", "")
    lines = [header]
    for result in results:
        for row in result.rows:
            lines.append(
                (result.name, row.metric, row.ours, row.baseline, row.goal, verdict(row.passed))
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for k, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


def ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def open_services(path: Path) -> tuple[Any, Any]:
    """(Services, Actor) for the clinic at `path`, acting as the front desk."""
    from sqlalchemy import select

    from desk_app.models import Staff
    from desk_app.services.auth import actor_for
    from desk_app.services.db import Database
    from desk_app.services.registry import Services

    db = Database(sqlite_url(path))
    with db.reading() as s:
        staff = s.scalars(select(Staff).where(Staff.username == BENCH_USERNAME)).one()
        actor = actor_for(staff, BENCH_WORKSTATION)
    return Services.build(db), actor


def raw_connection(path: Path) -> Any:
    """A plain sqlite3 connection set up exactly like the app's (same PRAGMAs)."""
    import sqlite3

    from desk_app.services.db import _sqlite_pragmas

    connection = sqlite3.connect(path, check_same_thread=False)
    _sqlite_pragmas(connection, None)
    return connection


class StatementRecorder:
    """Records the SQL and DBAPI parameters sent while it is active (through SQLAlchemy, or
    straight to the driver by services.driver_statements)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def _record(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        self.statements.append((statement, parameters))

    def _record_driver(self, statement: str, parameters: Any) -> None:
        self.statements.append((statement, parameters))

    def __enter__(self) -> StatementRecorder:
        from sqlalchemy import event

        from desk_app.services import driver_statements

        event.listen(self.engine, "before_cursor_execute", self._record)
        # Statements run straight on the driver's cursor (the search box's) are seen too.
        driver_statements.observer = self._record_driver
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        from desk_app.services import driver_statements

        event.remove(self.engine, "before_cursor_execute", self._record)
        driver_statements.observer = None


class AppGarbageCollection:
    """Garbage collection as the app does it (desk_app/views/main_thread_gc.py).

    In the app, automatic collection is off, start-up's objects are frozen once the main
    window is up, and the UI thread collects on a timer when a generation's threshold has
    passed: a database call never pauses for a collection. The benches time service calls
    the same way and time each collection on its own (``pauses``), as the UI thread would
    pay it between frames.
    """

    def __init__(self) -> None:
        import gc

        self._gc = gc
        self.pauses: list[float] = []

    def __enter__(self) -> AppGarbageCollection:
        self._was_enabled = self._gc.isenabled()
        self._gc.collect()
        self._gc.freeze()
        self._gc.disable()
        return self

    def collect_if_due(self) -> None:
        gc = self._gc
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = [g for g in range(3) if thresholds[g] and counts[g] > thresholds[g]]
        if due:
            started = time.perf_counter()
            gc.collect(max(due))
            self.pauses.append(time.perf_counter() - started)

    def __exit__(self, *exc: object) -> None:
        self._gc.unfreeze()
        if self._was_enabled:
            self._gc.enable()

    def pause_row(self) -> Row:
        """The longest collection pauses (p99), against one 60 Hz frame."""
        if not self.pauses:
            return Row("UI-thread collection pause (p99)", "none due", "", "< 16 ms", True)
        stats = Stats.of_seconds(self.pauses)
        return Row(
            "UI-thread collection pause (p99)",
            ms(stats.p99),
            f"{stats.n} collections",
            "< 16 ms",
            stats.p99 < 16.0,
        )
