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

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PREFIX_LENGTH = 6


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
    """One row per (prefix, patient) from the tokens: substr and length count characters on
    SQLite and PostgreSQL alike, as Python's slicing does in prefixes_of. One statement per
    prefix length, each in key order, so SQLite inserts it in one sweep of the table's key
    (a 100,000-patient clinic has about 3.3 million rows)."""
    for k in range(1, PREFIX_LENGTH + 1):
        op.execute(
            "INSERT INTO patient_search_prefix (prefix, sort_key, patient_id) "
            f"SELECT DISTINCT substr(token, 1, {k}), sort_key, patient_id "
            f"FROM patient_search_token WHERE length(token) >= {k} ORDER BY 1, 2, 3"
        )


def downgrade() -> None:
    op.drop_table("patient_search_prefix")
