"""Every way find_patients can find patients gives the same answer.

It picks a way from index counts (see services.patients.find_patients). On a small clinic
the counts always pick the same one, so each way is forced here by moving the thresholds, and
its results are compared with the rule itself, worked out in Python from the stored search
tokens: every term prefix-matches one of the patient's tokens; archived patients are left out;
ordered by sort key, then id; at most the limit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select, update

from desk_app.models import Patient, PatientSearchToken
from desk_app.services import patients
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from desk_app.services.search_tokens import query_terms

QUERIES = [
    "m", "ma", "smith", "liam smith", "l s", "o'b", "nguy mad", "416", "416-555-1", "555-10",
    "1985", "1963-0", "mail.example", "zz", "e a i", "416 5", "m mail",
]  # fmt: skip

# (COMMON_TERM_TOKENS, FIRST_ROWS_PER_RESULT, NEAR_TERM_FACTOR) that force each way.
PLANS = {
    "walk": (1, 4, 2),  # every term that matches anything counts as common
    "first rows only": (10**9, 10**6, 2),  # the first rows are the whole list
    "first rows, else merged lists": (10**9, 1, 10**9),  # few first rows; every list merged
    "merged lists": (10**9, 0, 10**9),
    "one list, probes": (10**9, 0, 0),  # no list merged: the other terms probed
}


@pytest.fixture
def clinic(db: Database) -> Database:
    create_demo_clinic(db, patients=150)
    with db.transaction() as s:  # a few archived patients, which search never shows
        archived = s.scalars(select(Patient.id).order_by(Patient.sort_key).limit(40)).all()
        s.execute(update(Patient).where(Patient.id.in_(archived[::4])).values(archived=True))
    return db


@pytest.fixture(params=list(PLANS))
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    common, first_rows, near = PLANS[request.param]
    monkeypatch.setattr(patients, "COMMON_TERM_TOKENS", common)
    monkeypatch.setattr(patients, "FIRST_ROWS_PER_RESULT", first_rows)
    monkeypatch.setattr(patients, "NEAR_TERM_FACTOR", near)
    yield request.param


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
        with clinic.reading() as s:
            got = [p.id for p in patients.find_patients(s, query, limit)]
        assert got == expected(query, limit), (plan, query)


def test_a_patient_matching_through_many_tokens_is_found_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first rows of a list hold a patient once per matching token: when they are all one
    patient's, the whole list is read."""
    create_demo_clinic(db, patients=20)
    monkeypatch.setattr(patients, "FIRST_ROWS_PER_RESULT", 1)
    with db.transaction() as s:
        many = Patient(
            clinic_id=s.scalars(select(Patient.clinic_id).limit(1)).one(),
            legal_first_name="Aa Aab Aac Aad",
            legal_last_name="Aaa-Aae",
            preferred_name="Aaf",
            email="aag.aah@mail.example",
        )
        s.add(many)
        s.flush()
        patients.refresh_search_tokens(s, many)
    expected = reference(db)
    for limit in (1, 2, 3):
        with db.reading() as s:
            got = [p.id for p in patients.find_patients(s, "a", limit)]
        assert got == expected("a", limit)
        assert got[0] == many.id


def test_tokens_carry_their_patients_sort_key(clinic: Database) -> None:
    with clinic.transaction() as s:  # as PatientService.update does
        renamed = s.scalars(select(Patient).order_by(Patient.id).limit(1)).one()
        renamed.legal_last_name = "Zzyzx"
        patients.refresh_search_tokens(s, renamed)
    with clinic.reading() as s:
        assert s.scalars(
            select(PatientSearchToken.sort_key).where(PatientSearchToken.patient_id == renamed.id)
        ).first() == renamed.sort_key
        assert renamed.sort_key.startswith("zzyzx ")
        differ = s.execute(
            select(PatientSearchToken.patient_id)
            .join(Patient, Patient.id == PatientSearchToken.patient_id)
            .where(PatientSearchToken.sort_key != Patient.sort_key)
        ).all()
        assert s.scalar(select(PatientSearchToken.sort_key).limit(1))
    assert differ == []
