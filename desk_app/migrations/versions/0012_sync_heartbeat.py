"""Sync heartbeat: central learns each workstation's pull cursor, so it can prune its change
log and push receipts (docs/SYNC.md, "Pruning").

Revision ID: 0012
Revises: 0011

``sync_workstation`` (one row per desk: its cursor, last pull, last push, last seen) is used
on central only; like the other sync tables it is created on both sides (one schema
everywhere). The index on ``sync_push_receipt.pushed_at`` lets the prune find old receipts.
Written for SQLite and PostgreSQL; imports nothing from desk_app.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_workstation",
        sa.Column("workstation", sa.String(32), nullable=False),
        sa.Column("cursor_txid", sa.BigInteger(), nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_pull_at", sa.DateTime(), nullable=True),
        sa.Column("last_push_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("workstation", name="pk_sync_workstation"),
    )
    op.create_index("ix_sync_push_receipt_pushed_at", "sync_push_receipt", ["pushed_at"])


def downgrade() -> None:
    op.drop_index("ix_sync_push_receipt_pushed_at", table_name="sync_push_receipt")
    op.drop_table("sync_workstation")
