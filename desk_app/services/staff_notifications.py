"""In-app notifications for the signed-in staff member (the bell in the main window)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from desk_app.models.billing_notices import StaffNotification
from desk_app.services.actor import Actor
from desk_app.services.db import Database

MAX_LISTED = 50


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: uuid.UUID
    title: str
    body: str
    patient_id: uuid.UUID | None
    created_at: datetime
    read: bool


class StaffNotificationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def unread_count(self, actor: Actor) -> int:
        with self.db.reading() as s:
            return int(s.scalar(select(func.count()).select_from(StaffNotification).where(
                StaffNotification.staff_id == actor.staff_id,
                StaffNotification.read_at.is_(None))) or 0)

    def list_for(self, actor: Actor) -> list[NotificationRow]:
        """The newest notifications of the signed-in person, unread first."""
        with self.db.reading() as s:
            rows = s.scalars(select(StaffNotification).where(
                StaffNotification.staff_id == actor.staff_id)
                .order_by(StaffNotification.read_at.is_not(None),
                          StaffNotification.created_at.desc()).limit(MAX_LISTED))
            return [NotificationRow(n.id, n.title, n.body, n.patient_id, n.created_at,
                                    n.read_at is not None) for n in rows]

    def mark_all_read(self, actor: Actor) -> int:
        """Only one's own notifications; returns how many were unread."""
        with self.db.transaction() as s:
            unread = list(s.scalars(select(StaffNotification).where(
                StaffNotification.staff_id == actor.staff_id,
                StaffNotification.read_at.is_(None))))
            now = self.db.clock.now()
            for n in unread:
                n.read_at = now
            return len(unread)
