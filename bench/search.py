"""Patient search on 100,000 patients, per keystroke, against the same SQL run raw.

Each query is typed letter by letter, as at the desk (a search runs for every prefix): about
50 names (last names, first names, "first last"), phone numbers in several styles, e-mail
addresses and birth dates (ISO and day/month/year), some taken from real rows of the clinic.
For every keystroke the service call `PatientService.search` is timed, and right after it the
exact statements SQLAlchemy sent for it (recorded once with their DBAPI parameters) run on a
plain sqlite3 connection set up with the app's PRAGMAs: the raw-SQL baseline. The two are
interleaved over several rounds so background noise hits both alike. Garbage collection is
the app's (bench.common.AppGarbageCollection): never inside a call; its pauses are a row of
their own.

Goal: p99 under 16 ms, and within 2x of raw SQL (median and p99).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass
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
)

NAME = "search"
ROUNDS = 7
GOAL_P99_MS = 16.0
GOAL_RATIO = 2.0

# What a receptionist types: last names (the usual way), first names, and full names.
NAMES = [
    "smith", "nguyen", "tremblay", "patel", "garcia", "o'brien", "odegard", "kowalski",
    "chen", "macdonald", "roy", "singh", "muller", "haddad", "kim", "gagnon", "rossi",
    "okafor", "lefevre", "brown", "wilson", "yamamoto", "dubois", "andersson", "cohen",
    "martin", "lee", "fraser", "cote", "novak", "walsh", "schmidt",
    "maddy", "liam", "olivia", "sophie", "mohammed", "priya", "zoe", "hiroshi",
    "siobhan", "kwame", "bjorn", "nikolai",
    "liam smith", "priya patel", "mei chen", "owen walsh", "grace wilson", "emma yamamoto",
]  # fmt: skip
PHONE_STYLES = ["416-555-{}", "(416) 555-{}", "416555{}", "555-{}"]
DATE_STYLES = ["iso", "iso-month", "dmy"]


@dataclass(frozen=True)
class Keystroke:
    kind: str  # name, phone, email, date
    text: str


def typed(kind: str, text: str) -> list[Keystroke]:
    """Every prefix of `text`, as it appears in the box while it is typed."""
    return [Keystroke(kind, text[:i]) for i in range(1, len(text) + 1) if text[:i].strip()]


def keystrokes(samples: list[dict[str, Any]]) -> list[Keystroke]:
    """The whole typing session; `samples` are real patients (email, phone, date of birth)."""
    out: list[Keystroke] = []
    for name in NAMES:
        out += typed("name", name)
    phones = [s["mobile_phone"] for s in samples if s["mobile_phone"]]
    for style, phone in zip(PHONE_STYLES, phones, strict=False):
        out += typed("phone", style.format(phone[-4:]))
    for sample in samples[:3]:
        out += typed("email", sample["email"])
    for style, sample in zip(DATE_STYLES * 2, samples, strict=False):
        dob = sample["date_of_birth"]
        if style == "iso":
            text = dob
        elif style == "iso-month":
            text = dob[:7]
        else:
            text = f"{dob[8:10]}/{dob[5:7]}/{dob[:4]}"
        out += typed("date", text)
    return out


def sample_patients(connection: Any, count: int = 6) -> list[dict[str, Any]]:
    rows = connection.execute(
        "SELECT email, mobile_phone, date_of_birth FROM patient "
        "WHERE mobile_phone != '' AND date_of_birth IS NOT NULL ORDER BY id LIMIT 500"
    ).fetchall()
    picked = random.Random(3).sample(rows, count)
    return [{"email": e, "mobile_phone": m, "date_of_birth": d} for e, m, d in picked]


def run(path: Path | None = None, rounds: int = ROUNDS) -> Result:
    path = path or large_db()
    services, actor = open_services(path)
    raw = raw_connection(path)
    session = keystrokes(sample_patients(raw))
    search = services.patients.search

    # Warm up both paths and record what SQLAlchemy sends for each keystroke.
    recorded: dict[str, list[tuple[str, Any]]] = {}
    for key in session:
        with StatementRecorder(services.db.engine) as recorder:
            found = search(actor, key.text)
        recorded[key.text] = recorder.statements
        raw_count = _run_raw(raw, recorder.statements)
        if raw_count != len(found):
            raise AssertionError(f"raw SQL found {raw_count}, the service {len(found)}")

    ours: list[float] = []
    base: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_kind_raw: dict[str, list[float]] = defaultdict(list)
    slowest: dict[str, float] = defaultdict(float)
    perf = time.perf_counter
    with AppGarbageCollection() as collector:
        for _ in range(rounds):
            for key in session:
                statements = recorded[key.text]
                t0 = perf()
                search(actor, key.text)
                t1 = perf()
                _run_raw(raw, statements)
                t2 = perf()
                ours.append(t1 - t0)
                base.append(t2 - t1)
                by_kind[key.kind].append(t1 - t0)
                by_kind_raw[key.kind].append(t2 - t1)
                slowest[key.text] = max(slowest[key.text], t1 - t0)
                collector.collect_if_due()
    raw.close()
    services.db.dispose()

    s_ours, s_base = Stats.of_seconds(ours), Stats.of_seconds(base)
    ratio_median = s_ours.median / s_base.median
    ratio_p99 = s_ours.p99 / s_base.p99
    result = Result(NAME)
    result.rows = [
        Row(
            "search p99 per keystroke",
            ms(s_ours.p99),
            f"raw SQL {ms(s_base.p99)}",
            f"< {GOAL_P99_MS:g} ms",
            s_ours.p99 < GOAL_P99_MS,
        ),
        Row(
            "search median per keystroke",
            ms(s_ours.median),
            f"raw SQL {ms(s_base.median)}",
            "",
            None,
        ),
        Row(
            "search vs raw SQL (median / p99)",
            f"{ratio_median:.2f}x / {ratio_p99:.2f}x",
            "1x",
            f"<= {GOAL_RATIO:g}x",
            ratio_median <= GOAL_RATIO and ratio_p99 <= GOAL_RATIO,
        ),
        collector.pause_row(),
    ]
    worst = sorted(slowest.items(), key=lambda kv: kv[1], reverse=True)[:15]
    result.details = {
        "database": str(path),
        "rounds": rounds,
        "keystrokes_per_round": len(session),
        "service": s_ours.as_dict(),
        "raw_sql": s_base.as_dict(),
        "ratio_median": round(ratio_median, 3),
        "ratio_p99": round(ratio_p99, 3),
        "by_kind": {
            kind: {
                "service": Stats.of_seconds(values).as_dict(),
                "raw_sql": Stats.of_seconds(by_kind_raw[kind]).as_dict(),
            }
            for kind, values in by_kind.items()
        },
        "slowest_keystrokes_ms": {text: round(sec * 1000, 2) for text, sec in worst},
        "example_sql": recorded.get("smith", [("", None)])[0][0],
        "queries": [k.text for k in session],
    }
    return result


def _run_raw(connection: Any, statements: list[tuple[str, Any]]) -> int:
    rows = 0
    for sql, params in statements:
        rows = len(connection.execute(sql, params).fetchall())
    return rows
