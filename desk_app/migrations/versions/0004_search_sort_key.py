"""Search: the patient's sort key on every search token; archived patients indexed apart.

Revision ID: 0004
Revises: 0003

With the sort key beside each token, "the first 50 patients, in name order, with a token
starting with X" is read from the token index alone, index (token, sort_key, patient_id).
Two partial indexes on patient: the patients search can show in name order (sort_key, id),
replacing ix_patient_sort_key, so search walks names without opening rows; and the few
archived ones, so search can leave them out without reading every candidate's row. On
PostgreSQL both sort keys use the "C" (byte-order) collation, so names sort as on SQLite.

Written for SQLite (batch mode) and PostgreSQL; imports nothing from desk_app.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _sort_key_type() -> sa.types.TypeEngine[str]:
    return sa.String(length=420).with_variant(sa.String(length=420, collation="C"), "postgresql")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.alter_column(
            "patient",
            "sort_key",
            existing_type=sa.String(length=420),
            type_=sa.String(length=420, collation="C"),
            existing_nullable=False,
        )

    with op.batch_alter_table("patient_search_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sort_key", _sort_key_type(), nullable=False, server_default="")
        )

    # Every existing token gets its patient's sort key, in one statement.
    patient = sa.table("patient", sa.column("id", sa.Uuid()), sa.column("sort_key"))
    token = sa.table(
        "patient_search_token", sa.column("patient_id", sa.Uuid()), sa.column("sort_key")
    )
    op.execute(
        token.update().values(
            sort_key=sa.select(patient.c.sort_key)
            .where(patient.c.id == token.c.patient_id)
            .scalar_subquery()
        )
    )

    with op.batch_alter_table("patient_search_token", schema=None) as batch_op:
        batch_op.alter_column(
            "sort_key",
            existing_type=_sort_key_type(),
            existing_nullable=False,
            server_default=None,
        )
        batch_op.drop_index("ix_patient_search_token_token")
        batch_op.create_index(
            "ix_patient_search_token_token", ["token", "sort_key", "patient_id"], unique=False
        )

    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_sort_key")
    op.create_index(
        "ix_patient_name_order",
        "patient",
        ["sort_key", "id"],
        unique=False,
        sqlite_where=sa.text("archived IS 0"),
        postgresql_where=sa.text("archived IS false"),
    )
    op.create_index(
        "ix_patient_archived",
        "patient",
        ["id"],
        unique=False,
        sqlite_where=sa.text("archived IS 1"),
        postgresql_where=sa.text("archived IS true"),
    )


def downgrade() -> None:
    op.drop_index("ix_patient_archived", table_name="patient")
    op.drop_index("ix_patient_name_order", table_name="patient")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_sort_key", ["sort_key"], unique=False)

    with op.batch_alter_table("patient_search_token", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_search_token_token")
        batch_op.create_index(
            "ix_patient_search_token_token", ["token", "patient_id"], unique=False
        )
        batch_op.drop_column("sort_key")

    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "patient",
            "sort_key",
            existing_type=sa.String(length=420, collation="C"),
            type_=sa.String(length=420),
            existing_nullable=False,
        )
