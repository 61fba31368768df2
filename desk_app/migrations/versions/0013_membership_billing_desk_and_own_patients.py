"""Which workstation bills memberships on schedule (one desk, so a period is charged once);
an index answering "is this patient one of the practitioner's own?" in one probe.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_appointment_patient_practitioner", "appointment", ["patient_id", "practitioner_id"]
    )
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column(
                "membership_billing_workstation",
                sa.String(64),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.drop_column("membership_billing_workstation")
    op.drop_index("ix_appointment_patient_practitioner", table_name="appointment")
