"""Sync: the outbox and state of a workstation, the change log and epoch of central, the
conflict log (docs/SYNC.md).

Revision ID: 0007
Revises: 0006

One migration for both sides: every table is created on SQLite and PostgreSQL alike, and each
side uses its own (a workstation never writes the change log; central never has an outbox).
Written for SQLite and PostgreSQL; imports nothing from desk_app.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _seq() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_outbox",
        sa.Column("seq", _seq(), primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_sync_outbox"),
    )
    op.create_index("ix_sync_outbox_row", "sync_outbox", ["table_name", "row_key"])
    op.create_index("ix_sync_outbox_batch", "sync_outbox", ["batch_id"])
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sync_state"),
    )
    op.create_table(
        "sync_change_log",
        sa.Column("seq", _seq(), primary_key=True, autoincrement=True),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_sync_change_log"),
    )
    op.create_index("ix_sync_change_log_txid_seq", "sync_change_log", ["txid", "seq"])
    op.create_index("ix_sync_change_log_row", "sync_change_log", ["table_name", "row_key"])
    op.create_table(
        "sync_push_receipt",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("workstation", sa.String(32), nullable=False),
        sa.Column("pushed_at", sa.DateTime(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_sync_push_receipt"),
    )
    op.create_table(
        "sync_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sync_meta"),
    )
    op.create_table(
        "sync_conflict",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(200), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("kept_value", sa.Text(), nullable=False),
        sa.Column("lost_value", sa.Text(), nullable=False),
        sa.Column("kept_workstation", sa.String(32), nullable=False),
        sa.Column("lost_workstation", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["staff.id"],
                                name="fk_sync_conflict_reviewed_by_id_staff"),
        sa.PrimaryKeyConstraint("id", name="pk_sync_conflict"),
    )
    op.create_index("ix_sync_conflict_reviewed", "sync_conflict", ["reviewed_at"])


def downgrade() -> None:
    op.drop_index("ix_sync_conflict_reviewed", table_name="sync_conflict")
    op.drop_table("sync_conflict")
    op.drop_table("sync_meta")
    op.drop_table("sync_push_receipt")
    op.drop_index("ix_sync_change_log_row", table_name="sync_change_log")
    op.drop_index("ix_sync_change_log_txid_seq", table_name="sync_change_log")
    op.drop_table("sync_change_log")
    op.drop_table("sync_state")
    op.drop_index("ix_sync_outbox_batch", table_name="sync_outbox")
    op.drop_index("ix_sync_outbox_row", table_name="sync_outbox")
    op.drop_table("sync_outbox")
