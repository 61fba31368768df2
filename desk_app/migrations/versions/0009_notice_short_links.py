"""Billing notices: the clinic's link shortener, the short link a text carried, and the PDF
receipt emailed once a link is paid.

Revision ID: 0009
Revises: 0008

Written for both SQLite (batch mode) and PostgreSQL; imports nothing from desk_app.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shortener_base_url", sa.String(500), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("shortener_domain", sa.String(253), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("billing_notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_url", sa.String(255), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("receipt_status", sa.String(16), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("receipt_to", sa.String(254), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("receipt_failure", sa.Text(), nullable=False,
                                      server_default=""))
    _check_foreign_keys()


def downgrade() -> None:
    with op.batch_alter_table("billing_notice", schema=None) as batch_op:
        for column in ("receipt_failure", "receipt_to", "receipt_status", "short_url"):
            batch_op.drop_column(column)
    with op.batch_alter_table("notice_settings", schema=None) as batch_op:
        batch_op.drop_column("shortener_domain")
        batch_op.drop_column("shortener_base_url")
    _check_foreign_keys()


def _check_foreign_keys() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by migration 0009: {broken[:5]}")
