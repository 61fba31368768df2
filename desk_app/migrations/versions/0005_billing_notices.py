"""Billing notices: pay-balance texts and emails, payment links, staff notifications.

Revision ID: 0005
Revises: 0004

billing_notice (one message with a Stripe Checkout link; unique on the session id),
notice_settings (per clinic: partial payments, link expiry, message templates) and
staff_notification (the bell; one per person and notice). Written for SQLite (batch mode)
and PostgreSQL; imports nothing from desk_app. Times are naive UTC DateTime, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_settings",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("allow_partial_payment", sa.Boolean(), nullable=False),
        sa.Column("link_expiry_minutes", sa.Integer(), nullable=False),
        sa.Column("text_template", sa.Text(), nullable=False),
        sa.Column("email_text_template", sa.Text(), nullable=False),
        sa.Column("email_html_template", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_notice_settings_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_settings")),
        sa.UniqueConstraint("clinic_id", name=op.f("uq_notice_settings_clinic_id")),
    )
    op.create_table(
        "billing_notice",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "balance", "invoice", "top_up", name="noticekind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum("text", "email", name="noticechannel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sent",
                "not_sent",
                "failed",
                "paid",
                "expired",
                name="noticestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("payment_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("allow_partial", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("stripe_checkout_session_id", sa.String(length=255), nullable=False),
        sa.Column("link_url", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("workstation", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_billing_notice_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_billing_notice_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_billing_notice_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_billing_notice_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["payment_account_id"],
            ["payment_account.id"],
            name=op.f("fk_billing_notice_payment_account_id_payment_account"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_billing_notice_payment_id_payment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_notice")),
        sa.UniqueConstraint(
            "stripe_checkout_session_id", name=op.f("uq_billing_notice_stripe_checkout_session_id")
        ),
    )
    with op.batch_alter_table("billing_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_notice_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_billing_notice_status", ["status"], unique=False)

    op.create_table(
        "staff_notification",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_staff_notification_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["billing_notice.id"],
            name=op.f("fk_staff_notification_notice_id_billing_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_staff_notification_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_notification_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notification")),
        sa.UniqueConstraint("staff_id", "notice_id", name="uq_staff_notification_staff_notice"),
    )
    with op.batch_alter_table("staff_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_notification_staff_id"), ["staff_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_notification_staff_id"))
    op.drop_table("staff_notification")
    with op.batch_alter_table("billing_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_notice_status")
        batch_op.drop_index(batch_op.f("ix_billing_notice_patient_id"))
    op.drop_table("billing_notice")
    op.drop_table("notice_settings")
