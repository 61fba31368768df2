"""The conflict log an admin reviews: values that lost a merge, rules broken across desks,
rows central refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from desk_app.models.staff import Staff
from desk_app.models.sync import SyncConflict
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.errors import NotFound
from desk_app.services.permissions import Permission, require

KIND_LABELS = {
    "field": "Changed on two desks",
    "review": "Needs review",
    "rejected": "Refused by central",
}


@dataclass(frozen=True)
class ConflictRow:
    id: uuid.UUID
    detected_at: datetime
    kind_label: str
    what: str  # "patient.email" or the table
    row_key: str
    kept_value: str
    kept_workstation: str
    lost_value: str
    lost_workstation: str
    summary: str
    reviewed_by: str  # "" while not reviewed


def unreviewed_count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(SyncConflict)
                           .where(SyncConflict.reviewed_at.is_(None))) or 0)


class ConflictLogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, actor: Actor, *, include_reviewed: bool = False,
             limit: int = 500) -> list[ConflictRow]:
        require(actor, Permission.VIEW_AUDIT)
        with self.db.reading() as s:
            query = (select(SyncConflict, Staff.first_name, Staff.last_name)
                     .outerjoin(Staff, Staff.id == SyncConflict.reviewed_by_id)
                     .order_by(SyncConflict.created_at.desc(), SyncConflict.id).limit(limit))
            if not include_reviewed:
                query = query.where(SyncConflict.reviewed_at.is_(None))
            return [ConflictRow(
                id=c.id, detected_at=c.created_at, kind_label=KIND_LABELS.get(c.kind, c.kind),
                what=f"{c.table_name}.{c.field}" if c.field else c.table_name,
                row_key=c.row_key, kept_value=c.kept_value, kept_workstation=c.kept_workstation,
                lost_value=c.lost_value, lost_workstation=c.lost_workstation, summary=c.summary,
                reviewed_by=f"{first or ''} {last or ''}".strip())
                for c, first, last in s.execute(query)]

    def mark_reviewed(self, actor: Actor, conflict_id: uuid.UUID) -> None:
        require(actor, Permission.VIEW_AUDIT)
        with self.db.transaction() as s:
            conflict = s.get(SyncConflict, conflict_id)
            if conflict is None:
                raise NotFound("That conflict is no longer in the log.")
            if conflict.reviewed_at is not None:
                return
            conflict.reviewed_at = self.db.clock.now()
            conflict.reviewed_by_id = actor.staff_id
            audit.record(s, actor, "sync.conflict_reviewed", entity=conflict,
                         summary=f"Reviewed: {conflict.summary}")
