"""Search: patients listed in name order under each short prefix of their words.

Revision ID: 0008
Revises: 0007

Table patient_search_prefix holds, for every search token, its first 1 to 6 characters with the
patient's sort key and id, once per patient, keyed (prefix, sort_key, patient_id):
the patients under a prefix are read in the order the search list shows them, so a search of
short terms is a merge of ordered lists that stops at the 50th match. Derived from the tokens
(local, never synchronised); filled here from the existing tokens, by the same rule as
services.search_tokens.prefixes_of. Without rowid on SQLite (the key is the table).

Written for SQLite and PostgreSQL; imports nothing from desk_app.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PREFIX_LENGTH = 6
_BATCH = 50_000


def _collated(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(
        sa.String(length=length, collation="C"), "postgresql"
    )


def upgrade() -> None:
    op.create_table(
        "patient_search_prefix",
        sa.Column("prefix", _collated(16), nullable=False),
        sa.Column("sort_key", _collated(420), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name="fk_patient_search_prefix_patient_id_patient",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "prefix", "sort_key", "patient_id", name="pk_patient_search_prefix"
        ),
        sqlite_with_rowid=False,
    )
    _fill_from_tokens()


def _fill_from_tokens() -> None:
    """One row per (prefix, patient) from the tokens, written one prefix length at a time,
    each in key order (sequential inserts into the key). On SQLite the values go through the
    driver as stored (ids as 32 hex digits), without per-value type handling: a 100,000-
    patient clinic has about 3.3 million rows."""
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    token = sa.table(
        "patient_search_token",
        sa.column("patient_id", sa.Uuid()),
        sa.column("token", sa.String()),
        sa.column("sort_key", sa.String()),
    )
    prefix = sa.table(
        "patient_search_prefix",
        sa.column("prefix", sa.String()),
        sa.column("sort_key", sa.String()),
        sa.column("patient_id", sa.Uuid()),
    )
    if sqlite:
        stored = conn.exec_driver_sql(
            "SELECT patient_id, token, sort_key FROM patient_search_token"
        )
    else:
        stored = conn.execute(sa.select(token.c.patient_id, token.c.token, token.c.sort_key))
    words: dict[tuple[Any, str], set[str]] = defaultdict(set)
    for patient_id, text, key in stored:
        words[(patient_id, key)].add(text)
    for length in range(1, PREFIX_LENGTH + 1):
        rows = sorted(
            {
                (text[:length], key, patient_id)
                for (patient_id, key), texts in words.items()
                for text in texts
                if len(text) >= length
            },
            key=lambda r: (r[0], r[1], str(r[2])),
        )
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            if sqlite:
                conn.exec_driver_sql(
                    "INSERT INTO patient_search_prefix (prefix, sort_key, patient_id) "
                    "VALUES (?, ?, ?)",
                    batch,
                )
            else:
                conn.execute(
                    prefix.insert(),
                    [{"prefix": p, "sort_key": k, "patient_id": i} for p, k, i in batch],
                )


def downgrade() -> None:
    op.drop_table("patient_search_prefix")
