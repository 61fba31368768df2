"""Building a large clinic: `desk-app seed --patients 100000` and the 300-patient demo.

The seed runs as a user would run it, in a fresh process, into a new file in bench/.data/
that is deleted afterwards; the time is wall-clock from spawn to exit. The demo clinic (what
`desk-app --demo` builds on first use) is timed in this process, median of 5, each into a
new file. Goals: 100k patients under 60 s; the demo under about 1 s.
"""

from __future__ import annotations

import statistics
import time

from bench.common import DATA_DIR, LARGE_PATIENTS, Result, Row, run_seed, sqlite_url

NAME = "seed"
GOAL_LARGE_S = 60.0
GOAL_DEMO_S = 1.0
DEMO_RUNS = 5


def _remove(path_stem: str) -> None:
    for leftover in DATA_DIR.glob(path_stem + "*"):
        leftover.unlink()


def run() -> Result:
    from desk_app.services.db import Database
    from desk_app.services.demo import create_demo_clinic

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    target = DATA_DIR / "seed-bench.sqlite3"
    _remove(target.name)
    seconds = run_seed(target, LARGE_PATIENTS)
    size_mb = target.stat().st_size / 1_000_000
    _remove(target.name)

    demo_seconds: list[float] = []
    for i in range(DEMO_RUNS):
        demo = DATA_DIR / f"demo-bench-{i}.sqlite3"
        _remove(demo.name)
        db = Database(sqlite_url(demo))
        started = time.perf_counter()
        create_demo_clinic(db)
        demo_seconds.append(time.perf_counter() - started)
        db.dispose()
        _remove(demo.name)
    demo_median = statistics.median(demo_seconds)

    result = Result(NAME)
    result.rows = [
        Row(
            f"desk-app seed --patients {LARGE_PATIENTS:,}",
            f"{seconds:.1f} s, {size_mb:.0f} MB",
            "",
            f"< {GOAL_LARGE_S:g} s",
            seconds < GOAL_LARGE_S,
        ),
        Row(
            "demo clinic, 300 patients (median of 5)",
            f"{demo_median:.2f} s",
            "",
            f"< {GOAL_DEMO_S:g} s",
            demo_median < GOAL_DEMO_S,
        ),
    ]
    result.details = {
        "patients": LARGE_PATIENTS,
        "seconds": round(seconds, 2),
        "file_mb": round(size_mb, 1),
        "demo_seconds": [round(s, 3) for s in demo_seconds],
    }
    return result
