"""Every way search_statement can find patients gives the same answer.

The statement picks a plan from index counts (see services.patients.search_statement). On a
small clinic the counts always pick the same one, so each plan is forced here by moving the
thresholds, and its results are compared with the rule itself, worked out in Python from the
stored search tokens: every term prefix-matches one of the patient's tokens; ordered by sort
key, then id; at most the limit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from desk_app.models import Patient, PatientSearchToken
from desk_app.services import patients
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from desk_app.services.search_tokens import query_terms

QUERIES = [
    "m", "ma", "smith", "liam smith", "l s", "o'b", "nguy mad", "416", "416-555-1", "555-10",
    "1985", "1963-0", "mail.example", "zz", "e a i",
]  # fmt: skip

# (RARE_TERM_TOKENS, COMMON_TERM_TOKENS, NAME_BLOCK_PATIENTS) that force each plan.
PLANS = {
    "walk": (0, 0, 0),  # nothing rare, everything common
    "one list, probes": (0, 10**9, 0),  # nothing rare, every term "a last name"
    "all lists": (10**9, 10**9, 0),  # every term rare
}


@pytest.fixture
def clinic(db: Database) -> Database:
    create_demo_clinic(db, patients=150)
    return db


@pytest.fixture(params=list(PLANS))
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    rare, common, block = PLANS[request.param]
    monkeypatch.setattr(patients, "RARE_TERM_TOKENS", rare)
    monkeypatch.setattr(patients, "COMMON_TERM_TOKENS", common)
    monkeypatch.setattr(patients, "NAME_BLOCK_PATIENTS", block)
    patients._search_template.cache_clear()
    yield request.param
    patients._search_template.cache_clear()


def reference(db: Database) -> Callable[[str, int], list[uuid.UUID]]:
    """The search rule in plain Python over the stored tokens."""
    with db.reading() as s:
        tokens: dict[uuid.UUID, list[str]] = defaultdict(list)
        for patient_id, token in s.execute(
            select(PatientSearchToken.patient_id, PatientSearchToken.token)
        ):
            tokens[patient_id].append(token)
        listed = sorted(
            (key, pid)
            for pid, key in s.execute(
                select(Patient.id, Patient.sort_key).where(Patient.archived.is_(False))
            )
        )

    def search(query: str, limit: int) -> list[uuid.UUID]:
        terms = query_terms(query)
        found = [
            pid
            for _key, pid in listed
            if all(any(t.startswith(alt) for alt in alts for t in tokens[pid]) for alts in terms)
        ]
        return found[:limit]

    return search


@pytest.mark.parametrize("limit", [50, 3])
def test_every_plan_finds_what_the_rule_says(clinic: Database, plan: str, limit: int) -> None:
    expected = reference(clinic)
    for query in QUERIES:
        stmt = patients.search_statement(query, limit)
        assert stmt is not None
        with clinic.reading() as s:
            got = [p.id for p in s.scalars(stmt)]
        assert got == expected(query, limit), (plan, query)
