"""Writing a patient's search rows: their tokens and their name-ordered prefixes.

Both tables are derived from the patient row (never synchronised) and always written together,
here, by every path that changes a patient's searchable details: adding and editing a
patient (services.patients), rows arriving from other desks (services.sync.apply). The demo
writes the same rows in bulk (a large seed derives the prefix rows in SQL, below), and so did
the migration that created the prefix table.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from desk_app.models.patient import PatientSearchPrefix, PatientSearchToken
from desk_app.services.search_tokens import PREFIX_LENGTH, prefixes_of

_PART = 500  # ids per IN (...) list

# Every token's prefix rows derived in SQL, for loads of many patients at once: the same rule
# as prefixes_of (substr and length count characters, as Python's slicing does). One statement
# per prefix length, each selected in key order so SQLite inserts it in one sweep of the
# table's key (one sort of all lengths together took twice as long). Rows already there are
# kept (OR IGNORE).
SQLITE_PREFIXES_FROM_TOKENS = tuple(
    "INSERT OR IGNORE INTO patient_search_prefix (prefix, sort_key, patient_id) "
    f"SELECT DISTINCT substr(token, 1, {k}), sort_key, patient_id FROM patient_search_token "
    f"WHERE length(token) >= {k} ORDER BY 1, 2, 3"
    for k in range(1, PREFIX_LENGTH + 1)
)


@dataclass(frozen=True, slots=True)
class SearchRows:
    patient_id: uuid.UUID
    sort_key: str
    tokens: Collection[str]


def replace_search_rows(conn: Connection, patients: Sequence[SearchRows]) -> None:
    """Replace these patients' tokens and prefix rows, in the caller's transaction.

    The prefix table is keyed for reading in name order, not by patient, so a patient's old
    prefix rows are found from their old tokens (which carry the old sort key): the same
    rule made both.
    """
    ids = [p.patient_id for p in patients]
    old: dict[tuple[uuid.UUID, str], set[str]] = defaultdict(set)
    for start in range(0, len(ids), _PART):
        part = ids[start : start + _PART]
        token = PatientSearchToken
        for patient_id, text, key in conn.execute(
            select(token.patient_id, token.token, token.sort_key).where(
                token.patient_id.in_(part)
            )
        ):
            old[(patient_id, key)].add(text)
        conn.execute(delete(token).where(token.patient_id.in_(part)))
    prefix = PatientSearchPrefix
    for (patient_id, key), tokens in old.items():
        listed = sorted(prefixes_of(tokens))
        if listed:
            conn.execute(
                delete(prefix).where(
                    prefix.prefix.in_(listed),
                    prefix.sort_key == key,
                    prefix.patient_id == patient_id,
                )
            )
    new_tokens = [
        {"patient_id": p.patient_id, "token": t, "sort_key": p.sort_key}
        for p in patients
        for t in sorted(p.tokens)
    ]
    new_prefixes = [
        {"prefix": x, "sort_key": p.sort_key, "patient_id": p.patient_id}
        for p in patients
        for x in sorted(prefixes_of(p.tokens))
    ]
    if new_tokens:
        conn.execute(insert(PatientSearchToken), new_tokens)
    if new_prefixes:
        conn.execute(insert(PatientSearchPrefix), new_prefixes)
