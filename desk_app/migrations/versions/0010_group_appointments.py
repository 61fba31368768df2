"""Group appointments and class bookings: an appointment's kind and its participants.

Revision ID: 0010
Revises: 0009

Existing appointments become individual ones (server default), so nothing else changes for
them. Written for SQLite (batch mode) and PostgreSQL; imports nothing from desk_app.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_STATUS = ("booked", "arrived", "no_show", "cancelled")


def upgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "kind",
            sa.Enum("individual", "group", "class", name="appointmentkind", native_enum=False,
                    length=32),
            server_default="individual",
            nullable=False,
        ))
    op.create_table(
        "appointment_participant",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="appointmentstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointment.id"],
            name=op.f("fk_appointment_participant_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"],
            name=op.f("fk_appointment_participant_patient_id_patient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_participant")),
        sa.UniqueConstraint("appointment_id", "patient_id",
                            name=op.f("uq_appointment_participant_appointment_id")),
    )
    with op.batch_alter_table("appointment_participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_participant_appointment_id"),
                              ["appointment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_participant_patient_id"),
                              ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appointment_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_participant_patient_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_participant_appointment_id"))
    op.drop_table("appointment_participant")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("kind")
