"""Billing notices: pay-balance texts and emails, one-time and top-up payment links, and the
in-app notifications that say a link was paid.

A notice is one message sent to a patient with a Stripe Checkout link. Its status moves from
queued to sent (or not sent / failed), then to paid or expired; the payment it brought in is
a ledger row like any other (unique on its Stripe ids, see models.billing.Payment).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned
from desk_app.models.enums import str_enum


class NoticeKind(StrEnum):
    BALANCE = "balance"  # the whole outstanding balance (or part of it, if the clinic allows)
    INVOICE = "invoice"  # a one-time payment link for one invoice
    TOP_UP = "top_up"  # account credit, the patient picks the amount

    @property
    def label(self) -> str:
        return {"balance": "Pay balance", "invoice": "One-time payment link",
                "top_up": "Credit top-up"}[self.value]


class NoticeChannel(StrEnum):
    TEXT = "text"
    EMAIL = "email"

    @property
    def label(self) -> str:
        return "Text" if self is NoticeChannel.TEXT else "Email"


class NoticeStatus(StrEnum):
    QUEUED = "queued"  # written, the message is being sent
    SENT = "sent"
    NOT_SENT = "not_sent"  # no provider configured: the message is in the outbox
    FAILED = "failed"  # the provider refused or could not be reached (see failure_reason)
    PAID = "paid"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {
            "queued": "Queued",
            "sent": "Sent",
            "not_sent": "Not sent: no provider configured",
            "failed": "Failed",
            "paid": "Paid",
            "expired": "Expired",
        }[self.value]

    @property
    def link_open(self) -> bool:
        """The link may still be paid: the poller asks Stripe about it."""
        return self in (NoticeStatus.QUEUED, NoticeStatus.SENT, NoticeStatus.NOT_SENT,
                        NoticeStatus.FAILED)


class BillingNotice(Versioned, Base):
    __tablename__ = "billing_notice"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind))
    channel: Mapped[NoticeChannel] = mapped_column(str_enum(NoticeChannel))
    # The phone number (E.164) or email address it went to.
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[NoticeStatus] = mapped_column(str_enum(NoticeStatus))
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    # A one-time link's invoice.
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"), default=None)
    payment_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_account.id"))
    # What the link asks for (a top-up: 0, the patient chooses).
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    allow_partial: Mapped[bool] = mapped_column(default=False)
    # Exactly what was sent (text body, or the email's subject and text part).
    subject: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    stripe_checkout_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    link_url: Mapped[str] = mapped_column(Text)  # the Checkout Session's own URL
    # The short link the text carried (the clinic's link shortener); "" when none was made.
    short_url: Mapped[str] = mapped_column(String(255), default="")
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment.id"), default=None)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Our PDF receipt emailed to the patient once the link is paid (services.link_receipts):
    # "" none due, "pending" due (set in the transaction that records the payment),
    # "sending" claimed by one desk, then "sent", "not_sent" (outbox) or "failed".
    receipt_status: Mapped[str] = mapped_column(String(16), default="")
    receipt_to: Mapped[str] = mapped_column(String(254), default="")
    receipt_failure: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_billing_notice_status", "status"),)


class NoticeSettings(Versioned, Base):
    """Per clinic: how links behave and the message templates (empty: the bundled ones)."""

    __tablename__ = "notice_settings"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"), unique=True)
    # Jane requires the full balance; a clinic may let the patient pay part of it.
    allow_partial_payment: Mapped[bool] = mapped_column(default=False)
    # Stripe allows 30 minutes to 24 hours.
    link_expiry_minutes: Mapped[int] = mapped_column(default=24 * 60)
    text_template: Mapped[str] = mapped_column(Text, default="")
    email_text_template: Mapped[str] = mapped_column(Text, default="")
    email_html_template: Mapped[str] = mapped_column(Text, default="")
    # The link shortener texts use (a Bitly-v4-compatible API); "" when none. Its access
    # token is in the OS keyring (services.link_shortener).
    shortener_base_url: Mapped[str] = mapped_column(String(500), default="")
    shortener_domain: Mapped[str] = mapped_column(String(253), default="")


class StaffNotification(Versioned, Base):
    """An in-app notification (the bell in the main window)."""

    __tablename__ = "staff_notification"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"), index=True)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patient.id"), default=None)
    notice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("billing_notice.id"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    read_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        # Two desks that record the same paid link notify each person once.
        UniqueConstraint("staff_id", "notice_id", name="uq_staff_notification_staff_notice"),
    )
