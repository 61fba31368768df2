"""Audit events: who did what, from which workstation, when."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import AppendOnly, Base


class AuditEvent(AppendOnly, Base):
    __tablename__ = "audit_event"

    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    summary: Mapped[str] = mapped_column(Text, default="")
    # JSON text: before/after values where they apply. Never card data or secrets.
    details: Mapped[str] = mapped_column(Text, default="{}")

    __table_args__ = (
        Index("ix_audit_event_created", "created_at"),
        Index("ix_audit_event_patient", "patient_id"),
    )
