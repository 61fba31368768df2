"""Stripe: payment accounts, cards on file, charge and refund attempts; Stripe ids on the ledger.

Revision ID: 0003
Revises: 0002

Written for both SQLite (batch mode) and PostgreSQL; imports nothing from desk_app, so it
keeps working whatever the models become. Times are naive UTC DateTime, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_account",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("test", "live", name="accountmode", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("publishable_key", sa.String(length=255), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_payment_account_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_payment_account_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["staff.id"], name=op.f("fk_payment_account_practitioner_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["staff.id"], name=op.f("fk_payment_account_removed_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_account")),
    )
    with op.batch_alter_table("payment_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_account_clinic_id"), ["clinic_id"], unique=False
        )

    op.create_table(
        "card_on_file",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("payment_account_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_payment_method_id", sa.String(length=255), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column(
            "added_by",
            sa.Enum("staff", "patient", name="collectedby", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("added_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_card_on_file_added_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_card_on_file_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["payment_account_id"],
            ["payment_account.id"],
            name=op.f("fk_card_on_file_payment_account_id_payment_account"),
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["staff.id"], name=op.f("fk_card_on_file_removed_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_on_file")),
        sa.UniqueConstraint(
            "stripe_payment_method_id", name=op.f("uq_card_on_file_stripe_payment_method_id")
        ),
    )
    with op.batch_alter_table("card_on_file", schema=None) as batch_op:
        batch_op.create_index("ix_card_on_file_patient", ["patient_id"], unique=False)

    op.create_table(
        "stripe_customer",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("payment_account_id", sa.Uuid(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_stripe_customer_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["payment_account_id"],
            ["payment_account.id"],
            name=op.f("fk_stripe_customer_payment_account_id_payment_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_customer")),
        sa.UniqueConstraint("patient_id", "payment_account_id", name="uq_stripe_customer_patient"),
    )
    op.create_table(
        "charge_attempt",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("payment_account_id", sa.Uuid(), nullable=False),
        sa.Column("card_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("charge", "top_up", name="attemptpurpose", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "unknown",
                "succeeded",
                "failed",
                "requires_action",
                name="attemptstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column(
            "collected_by",
            sa.Enum("staff", "patient", name="collectedby", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("workstation", sa.String(length=32), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_charge_attempt_amount_positive")),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card_on_file.id"], name=op.f("fk_charge_attempt_card_id_card_on_file")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_charge_attempt_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_charge_attempt_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_charge_attempt_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_charge_attempt_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["payment_account_id"],
            ["payment_account.id"],
            name=op.f("fk_charge_attempt_payment_account_id_payment_account"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_charge_attempt_payment_id_payment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_attempt")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_charge_attempt_idempotency_key")),
    )
    with op.batch_alter_table("charge_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_charge_attempt_patient_status", ["patient_id", "status"], unique=False
        )
        batch_op.create_index("ix_charge_attempt_status", ["status"], unique=False)

    op.create_table(
        "charge_attempt_invoice",
        sa.Column("attempt_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "amount_cents > 0", name=op.f("ck_charge_attempt_invoice_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["charge_attempt.id"],
            name=op.f("fk_charge_attempt_invoice_attempt_id_charge_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_charge_attempt_invoice_invoice_id_invoice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_attempt_invoice")),
    )
    with op.batch_alter_table("charge_attempt_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charge_attempt_invoice_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_charge_attempt_invoice_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "refund_attempt",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("payment_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "unknown",
                "succeeded",
                "failed",
                "requires_action",
                name="attemptstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("stripe_refund_id", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("workstation", sa.String(length=32), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_refund_attempt_amount_positive")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_refund_attempt_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_refund_attempt_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_refund_attempt_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["payment_account_id"],
            ["payment_account.id"],
            name=op.f("fk_refund_attempt_payment_account_id_payment_account"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_refund_attempt_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_refund_attempt_refund_id_refund")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_attempt")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refund_attempt_idempotency_key")),
    )
    with op.batch_alter_table("refund_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refund_attempt_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index("ix_refund_attempt_status", ["status"], unique=False)

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True)
        )
        batch_op.add_column(sa.Column("stripe_charge_id", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_stripe_charge_id"), ["stripe_charge_id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_stripe_payment_intent_id"), ["stripe_payment_intent_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_payment_account_id_payment_account"),
            "payment_account",
            ["payment_account_id"],
            ["id"],
        )

    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_refund_id", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_refund_stripe_refund_id"), ["stripe_refund_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refund_stripe_refund_id"), type_="unique")
        batch_op.drop_column("stripe_refund_id")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payment_payment_account_id_payment_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payment_stripe_payment_intent_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_payment_stripe_charge_id"), type_="unique")
        batch_op.drop_column("stripe_charge_id")
        batch_op.drop_column("stripe_payment_intent_id")

    with op.batch_alter_table("refund_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_refund_attempt_status")
        batch_op.drop_index(batch_op.f("ix_refund_attempt_payment_id"))

    op.drop_table("refund_attempt")
    with op.batch_alter_table("charge_attempt_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_charge_attempt_invoice_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_charge_attempt_invoice_attempt_id"))

    op.drop_table("charge_attempt_invoice")
    with op.batch_alter_table("charge_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_charge_attempt_status")
        batch_op.drop_index("ix_charge_attempt_patient_status")

    op.drop_table("charge_attempt")
    op.drop_table("stripe_customer")
    with op.batch_alter_table("card_on_file", schema=None) as batch_op:
        batch_op.drop_index("ix_card_on_file_patient")

    op.drop_table("card_on_file")
    with op.batch_alter_table("payment_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_account_clinic_id"))

    op.drop_table("payment_account")
