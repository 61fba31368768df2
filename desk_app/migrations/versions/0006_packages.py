"""Packages and memberships: plans, sales, redemptions, households, memberships, desk notices.

Revision ID: 0006
Revises: 0005

Written for both SQLite (batch mode) and PostgreSQL; imports nothing from desk_app, so it
keeps working whatever the models become. Times are naive UTC DateTime, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = (
    "package_plan",
    "household_member",
    "membership",
    "desk_notice",
    "package_plan_item",
    "package_sale",
    "package_sale_item",
    "package_redemption",
)


def upgrade() -> None:
    op.create_table(
        "package_plan",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("package", "membership", name="plankind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("income_category", sa.String(length=120), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=True),
        sa.Column(
            "expiry_unit",
            sa.Enum("none", "days", "months", name="expiryunit", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("expiry_count", sa.Integer(), nullable=False),
        sa.Column(
            "recurrence",
            sa.Enum("weekly", "monthly", "yearly", name="recurrence", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("additional_charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("auto_select", sa.Boolean(), nullable=False),
        sa.Column("auto_redeem_online", sa.Boolean(), nullable=False),
        sa.Column("shared_with_household", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_package_plan_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_plan")),
    )
    with op.batch_alter_table("package_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_plan_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "household_member",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_household_member_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_member")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_household_member_patient_id")),
    )
    with op.batch_alter_table("household_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_member_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "membership",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("next_period_on", sa.Date(), nullable=False),
        sa.Column("charge_card", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_membership_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_membership_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_membership_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["package_plan.id"], name=op.f("fk_membership_plan_id_package_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "desk_notice",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_desk_notice_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_desk_notice_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_desk_notice_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_notice")),
    )
    with op.batch_alter_table("desk_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_notice_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "package_plan_item",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_type_id", sa.Uuid(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["package_plan.id"],
            name=op.f("fk_package_plan_item_plan_id_package_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["treatment_type_id"],
            ["treatment_type.id"],
            name=op.f("fk_package_plan_item_treatment_type_id_treatment_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_plan_item")),
    )
    with op.batch_alter_table("package_plan_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_plan_item_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "package_sale",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("sold_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("income_category", sa.String(length=120), nullable=False),
        sa.Column("uses_total", sa.Integer(), nullable=True),
        sa.Column("additional_charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("auto_select", sa.Boolean(), nullable=False),
        sa.Column("shared_with_household", sa.Boolean(), nullable=False),
        sa.Column("sold_at", sa.DateTime(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_reason", sa.String(length=40), nullable=False),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_package_sale_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_package_sale_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_package_sale_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_package_sale_membership_id_membership"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_package_sale_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["package_plan.id"], name=op.f("fk_package_sale_plan_id_package_plan")
        ),
        sa.ForeignKeyConstraint(
            ["sold_by_id"], ["staff.id"], name=op.f("fk_package_sale_sold_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_sale")),
    )
    with op.batch_alter_table("package_sale", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_package_sale_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_sale_membership_id"), ["membership_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_sale_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_package_sale_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "package_redemption",
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_type_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("visit_at", sa.DateTime(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("workstation", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("uses IN (1, -1)", name=op.f("ck_package_redemption_uses_one")),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_package_redemption_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_package_redemption_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_package_redemption_location_id_location"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_package_redemption_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["staff.id"],
            name=op.f("fk_package_redemption_practitioner_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["package_redemption.id"],
            name=op.f("fk_package_redemption_reverses_id_package_redemption"),
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["package_sale.id"],
            name=op.f("fk_package_redemption_sale_id_package_sale"),
        ),
        sa.ForeignKeyConstraint(
            ["treatment_type_id"],
            ["treatment_type.id"],
            name=op.f("fk_package_redemption_treatment_type_id_treatment_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_redemption")),
    )
    with op.batch_alter_table("package_redemption", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_package_redemption_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_package_redemption_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_package_redemption_sale", ["sale_id", "treatment_type_id", "uses"], unique=False
        )
        batch_op.create_index(
            "ix_package_redemption_visit", ["visit_at", "sale_id", "uses"], unique=False
        )

    op.create_table(
        "package_sale_item",
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_type_id", sa.Uuid(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["package_sale.id"],
            name=op.f("fk_package_sale_item_sale_id_package_sale"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["treatment_type_id"],
            ["treatment_type.id"],
            name=op.f("fk_package_sale_item_treatment_type_id_treatment_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_sale_item")),
    )
    with op.batch_alter_table("package_sale_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_package_sale_item_sale_id"), ["sale_id"], unique=False)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
