"""The prefix rows of every patient are exactly what their search tokens give."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select

from desk_app.models import Patient, PatientSearchPrefix, PatientSearchToken
from desk_app.services.db import Database
from desk_app.services.search_tokens import prefixes_of

PrefixRow = tuple[str, str, uuid.UUID]


def expected_prefix_rows(db: Database) -> set[PrefixRow]:
    """(prefix, sort key, patient id) for every listed prefix of every patient's tokens."""
    with db.reading() as s:
        tokens: dict[uuid.UUID, set[str]] = defaultdict(set)
        for patient_id, token in s.execute(
            select(PatientSearchToken.patient_id, PatientSearchToken.token)
        ):
            tokens[patient_id].add(token)
        keys = {pid: key for pid, key in s.execute(select(Patient.id, Patient.sort_key))}
    return {(x, keys[pid], pid) for pid, texts in tokens.items() for x in prefixes_of(texts)}


def stored_prefix_rows(db: Database) -> set[PrefixRow]:
    with db.reading() as s:
        rows = s.execute(
            select(
                PatientSearchPrefix.prefix,
                PatientSearchPrefix.sort_key,
                PatientSearchPrefix.patient_id,
            )
        )
        return {(prefix, key, pid) for prefix, key, pid in rows}


def assert_prefixes_follow_tokens(db: Database) -> None:
    stored, expected = stored_prefix_rows(db), expected_prefix_rows(db)
    assert expected, "no patient has a listed prefix"
    assert stored - expected == set(), "prefix rows no token gives (left behind)"
    assert expected - stored == set(), "prefix rows missing"
