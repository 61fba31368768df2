"""Writing audit events inside the use case's own transaction."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from desk_app.models.audit import AuditEvent
from desk_app.services.actor import Actor


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    entity: Any = None,
    patient_id: uuid.UUID | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    workstation: str | None = None,
) -> AuditEvent:
    """Add an audit event: who, which workstation, what. `details` must hold no secrets."""
    event = AuditEvent(
        staff_id=actor.staff_id if actor else None,
        workstation=actor.workstation if actor else (workstation or ""),
        action=action,
        entity_type=type(entity).__tablename__ if entity is not None else "",
        entity_id=getattr(entity, "id", None),
        patient_id=patient_id,
        summary=summary,
        details=json.dumps(details or {}, default=str, sort_keys=True),
    )
    session.add(event)
    return event
