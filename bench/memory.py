"""Peak memory of a process working on the 100,000-patient clinic.

A fresh Python process opens the clinic through the services (as the app's database thread
does), types the search benchmark's whole session (every keystroke of ~50 names, phones,
e-mails and birth dates), opens the 5-year profile and 30 other patients' profiles
(billing summary, details, appointments), then reports its peak resident set size
(resource.getrusage ru_maxrss). Baseline: the same process that only imports the services
and opens the clinic, doing nothing else.

Linux keeps ru_maxrss across fork and exec, so a child forked straight from a big benchmark
process would report at least that process's size; the measured process is therefore started
from a small launcher interpreter. VmHWM from /proc is recorded next to it as a cross-check.

Goal: under 250 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, Result, Row, large_db
from bench.profile_open import history_patient

NAME = "memory"
GOAL_MB = 250.0
OTHER_PROFILES = 30

CHILD = """
import json
import random
import resource
import sys
import uuid

from bench.common import open_services, raw_connection
from bench.search import keystrokes, sample_patients

path, history_id, work = sys.argv[1], uuid.UUID(sys.argv[2]), sys.argv[3] == "work"
services, actor = open_services(path)
searches = profiles = 0
if work:
    raw = raw_connection(path)
    session = keystrokes(sample_patients(raw))
    count = raw.execute("SELECT max(rowid) FROM patient").fetchone()[0]
    rowids = random.Random(5).sample(range(1, count + 1), int(sys.argv[4]))
    marks = ",".join("?" * len(rowids))
    ids = [
        uuid.UUID(hex=r[0])
        for r in raw.execute(f"SELECT id FROM patient WHERE rowid IN ({marks})", rowids)
    ]
    raw.close()
    for key in session:
        services.patients.search(actor, key.text)
        searches += 1
    for patient_id in [history_id, *ids]:
        services.ledger.billing_summary(actor, patient_id)
        services.patients.get(actor, patient_id)
        services.appointments.for_patient(actor, patient_id)
        profiles += 1
services.db.dispose()
usage = resource.getrusage(resource.RUSAGE_SELF)
hwm_kb = 0
try:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                hwm_kb = int(line.split()[1])
except OSError:
    pass
print(json.dumps({
    "max_rss_kb": usage.ru_maxrss, "vm_hwm_kb": hwm_kb, "searches": searches, "profiles": profiles
}))
"""


# Starts the measured process from a fresh, small interpreter (see the module docstring).
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def _child(path: Path, history_id: str, work: bool) -> dict[str, int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            LAUNCHER,
            sys.executable,
            "-c",
            CHILD,
            str(path),
            history_id,
            "work" if work else "idle",
            str(OTHER_PROFILES),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{completed.stderr[-2000:]}")
    result: dict[str, int] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run(path: Path | None = None) -> Result:
    path = path or large_db()
    history_id = history_patient(path).hex
    idle = _child(path, history_id, work=False)
    busy = _child(path, history_id, work=True)
    busy_mb = busy["max_rss_kb"] / 1024
    idle_mb = idle["max_rss_kb"] / 1024
    result = Result(NAME)
    result.rows = [
        Row(
            "peak RSS, 100k patients: searches + profiles",
            f"{busy_mb:.0f} MB",
            f"services opened, idle {idle_mb:.0f} MB",
            f"< {GOAL_MB:g} MB",
            busy_mb < GOAL_MB,
        )
    ]
    result.details = {
        "database": str(path),
        "work": busy,
        "idle": idle,
        "max_rss_mb": round(busy_mb, 1),
        "idle_max_rss_mb": round(idle_mb, 1),
    }
    return result
