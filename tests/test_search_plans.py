"""Every way find_patients can find patients gives the same answer.

It picks a way from the terms and index counts (see services.patients.find_patients). On a
small clinic the counts always pick the same one, so each way is forced here by moving the
thresholds, and its results are compared with the rule itself, worked out in Python from the
stored search tokens: every term prefix-matches one of the patient's tokens; archived patients
are left out; ordered by sort key, then id; at most the limit. A larger generated clinic is
searched the way the app does (no threshold moved) and compared with the same rule.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select, update

from desk_app.models import Appointment, Patient, PatientSearchToken
from desk_app.services import patients
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from desk_app.services.search_tokens import query_terms
from tests.search_rows_check import assert_prefixes_follow_tokens

QUERIES = [
    "m", "ma", "smith", "liam smith", "l s", "o'b", "nguy mad", "416", "416-555-1", "555-10",
    "1985", "1963-0", "mail.example", "zz", "e a i", "416 5", "m mail",
    # terms longer than the listed prefixes (probed), mixed with short ones and with numbers
    "madeleine", "odegard-nguyen", "maddy odegard", "o'brien m", "s mail.exa", "ødegård 1985",
]  # fmt: skip

# (USE_PREFIX_LISTS, PREFIX_LIST_TOKENS_PER_RESULT (and PROBED_TERM_TOKENS_PER_RESULT),
#  COMMON_TERM_TOKENS, FIRST_ROWS_PER_RESULT, NEAR_TERM_FACTOR) that force each way.
PLANS = {
    "prefix lists": (True, 0, 10**9, 4, 2),  # whenever the terms allow it
    "walk": (False, 4, 1, 4, 2),  # every term that matches anything counts as common
    "first rows only": (False, 4, 10**9, 10**6, 2),  # the first rows are the whole list
    "first rows, else merged lists": (False, 4, 10**9, 1, 10**9),  # few rows; lists merged
    "merged lists": (False, 4, 10**9, 0, 10**9),
    "one list, probes": (False, 4, 10**9, 0, 0),  # no list merged: the other terms probed
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
    use_prefixes, prefix_tokens, common, first_rows, near = PLANS[request.param]
    monkeypatch.setattr(patients, "USE_PREFIX_LISTS", use_prefixes)
    monkeypatch.setattr(patients, "PREFIX_LIST_TOKENS_PER_RESULT", prefix_tokens)
    monkeypatch.setattr(patients, "PROBED_TERM_TOKENS_PER_RESULT", prefix_tokens)
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


@pytest.mark.parametrize("limit", [50, 3])
def test_every_plan_keeps_a_practitioner_to_their_own_patients(
    clinic: Database, plan: str, limit: int
) -> None:
    """The same rule among the patients who have a visit with them (services.patient_access)."""
    expected = reference(clinic)
    with clinic.reading() as s:
        practitioner, = s.scalars(
            select(Appointment.practitioner_id).group_by(Appointment.practitioner_id)
            .order_by(func.count(func.distinct(Appointment.patient_id))).limit(1)
        ).all()
        theirs = set(s.scalars(select(Appointment.patient_id).where(
            Appointment.practitioner_id == practitioner)))
    assert 0 < len(theirs) < 150
    for query in QUERIES:
        with clinic.reading() as s:
            got = [p.id for p in patients.find_patients(s, query, limit, practitioner)]
        assert got == [p for p in expected(query, 10**6) if p in theirs][:limit], (plan, query)


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


def test_the_prefix_rows_follow_the_tokens(clinic: Database) -> None:
    """The demo wrote them in bulk; an edit rewrote one patient's (old prefixes gone)."""
    assert_prefixes_follow_tokens(clinic)
    with clinic.transaction() as s:
        renamed = s.scalars(
            select(Patient).where(Patient.archived.is_(False)).order_by(Patient.id).limit(1)
        ).one()
        renamed.legal_first_name = "Quenby"
        renamed.legal_last_name = "Zzyzx"
        renamed.email = "q.zzyzx@mail.example"
        patients.refresh_search_tokens(s, renamed)
    assert_prefixes_follow_tokens(clinic)
    with clinic.reading() as s:
        assert [p.id for p in patients.find_patients(s, "zzy q")] == [renamed.id]


def _generated_queries(db: Database, rnd: random.Random, count: int) -> list[str]:
    """Prefixes of real words of the clinic, one to three terms, some typed in capitals or
    with accents, some with a number or a word nobody has."""
    with db.reading() as s:
        words = sorted(
            set(s.scalars(select(PatientSearchToken.token).where(PatientSearchToken.token > "a")))
        )
    extra = ["zzq", "ØDEG", "Zoë", "1985", "416-555", "maddy.o@", "x"]
    queries = []
    for _ in range(count):
        terms = []
        for _ in range(rnd.choice((1, 2, 2, 2, 3))):
            word = rnd.choice(words) if rnd.random() < 0.9 else rnd.choice(extra)
            terms.append(word[: rnd.randint(1, min(len(word), 9))])
        queries.append(" ".join(terms))
    return queries


def test_searching_a_generated_clinic_finds_what_the_rule_says(db: Database) -> None:
    """1,200 patients from the demo's generator (40 first and 40 last names, so short prefixes
    match hundreds), searched the way the app does: every way may be picked."""
    create_demo_clinic(db, patients=1200)
    assert_prefixes_follow_tokens(db)
    expected = reference(db)
    rnd = random.Random(11)
    queries = [*QUERIES, *_generated_queries(db, rnd, 400)]
    for query in queries:
        with db.reading() as s:
            got = [p.id for p in patients.find_patients(s, query)]
            got_few = [p.id for p in patients.find_patients(s, query, 7)]
        assert got == expected(query, patients.SEARCH_LIMIT), query
        assert got_few == expected(query, 7), query


def test_a_bulk_seed_derives_the_same_prefix_rows_in_sql(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`desk-app seed` of a large clinic leaves the prefix rows to one SQL statement at the
    end (on SQLite); they are the rows the Python rule gives, and search finds the same."""
    from desk_app.services import demo

    monkeypatch.setattr(demo, "_BULK_PATIENTS", 100)
    create_demo_clinic(db, patients=120)
    assert_prefixes_follow_tokens(db)
    expected = reference(db)
    for query in QUERIES:
        with db.reading() as s:
            assert [p.id for p in patients.find_patients(s, query)] == expected(query, 50)
