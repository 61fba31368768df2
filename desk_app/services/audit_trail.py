"""Reading the audit trail: every money action, message, card change, permission change,
export and sign-in, filtered by date, staff member, kind, patient and words in the summary.

For Full Access and Administrative/All Billing (``Permission.VIEW_AUDIT``). An export of the
trail is itself audited ("audit.exported"), with the filters used.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from desk_app.models import AuditEvent, Clinic, Patient, Staff
from desk_app.models.patient import display_name_of
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.appointments import Choice
from desk_app.services.clock import clinic_local_to_utc, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import ValidationError
from desk_app.services.permissions import Permission, require

PAGE_SIZE = 100
MAX_EXPORT_ROWS = 100_000

#: The kinds of event, by the first part of their action ("payment.applied" is a payment).
KIND_LABELS = {
    "signin": "Sign-ins",
    "patient": "Patients",
    "appointment": "Appointments",
    "invoice": "Invoices",
    "payment": "Payments",
    "credit": "Account credit",
    "card": "Cards and card payments",
    "payment_account": "Payment accounts",
    "receipt": "Receipts and statements",
    "clinic": "Clinic settings",
    "staff": "Staff and permissions",
    "audit": "Audit trail exports",
    "report": "Report exports",
    "package": "Packages",
    "package_plan": "Package set-up",
    "membership": "Memberships",
    "notice": "Billing notices",
    "sync": "Sync",
    "household": "Households",
}


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Dates are the clinic's calendar days, both ends included."""

    start: date | None = None
    end: date | None = None
    staff_id: uuid.UUID | None = None
    kind: str = ""
    patient_id: uuid.UUID | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: uuid.UUID
    at: datetime  # in the clinic's time zone
    who: str
    workstation: str
    action: str
    kind: str
    summary: str
    patient: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: list[AuditRow]
    number: int
    pages: int
    total: int


def kind_of(action: str) -> str:
    return action.split(".", 1)[0]


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


class AuditTrailService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def kinds(self, actor: Actor) -> list[tuple[str, str]]:
        """(kind, label) of every kind of event in the trail, for the filter."""
        require(actor, Permission.VIEW_AUDIT)
        with self.db.reading() as s:
            actions = s.scalars(select(AuditEvent.action).distinct())
            found = {kind_of(action) for action in actions}
        return sorted(((k, kind_label(k)) for k in found), key=lambda pair: pair[1])

    def staff_choices(self, actor: Actor) -> list[Choice]:
        require(actor, Permission.VIEW_AUDIT)
        with self.db.reading() as s:
            rows = s.execute(
                select(Staff.id, Staff.first_name, Staff.last_name)
                .where(Staff.clinic_id == actor.clinic_id)
                .order_by(Staff.last_name, Staff.first_name)
            )
            return [Choice(sid, f"{first} {last}") for sid, first, last in rows]

    def page(self, actor: Actor, wanted: AuditFilter, number: int = 1) -> AuditPage:
        """One page of events, newest first."""
        require(actor, Permission.VIEW_AUDIT)
        with self.db.reading() as s:
            zone = self._zone(s, actor)
            query = self._query(wanted, zone)
            total = int(s.scalar(select(func.count()).select_from(query.subquery())) or 0)
            pages = max(1, -(-total // PAGE_SIZE))
            number = min(max(1, number), pages)
            rows = s.execute(query.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
            return AuditPage([_row(r, zone) for r in rows], number, pages, total)

    def export_csv(self, actor: Actor, wanted: AuditFilter) -> str:
        """The filtered trail as CSV text (the view writes it where the user chose); the
        export is audited with its filters."""
        require(actor, Permission.VIEW_AUDIT)
        with self.db.transaction() as s:
            zone = self._zone(s, actor)
            rows = s.execute(self._query(wanted, zone).limit(MAX_EXPORT_ROWS + 1)).all()
            if len(rows) > MAX_EXPORT_ROWS:
                raise ValidationError(
                    f"That is more than {MAX_EXPORT_ROWS:,} events: choose a shorter date range."
                )
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["When", "Who", "Workstation", "Action", "Summary", "Patient",
                             "Details"])
            for raw in rows:
                row = _row(raw, zone)
                writer.writerow([
                    row.at.isoformat(timespec="seconds"), row.who, row.workstation, row.action,
                    row.summary, row.patient, json.dumps(row.details, sort_keys=True),
                ])
            audit.record(
                s,
                actor,
                "audit.exported",
                summary=f"Exported {len(rows)} audit events",
                details={"filters": {k: str(v) for k, v in asdict(wanted).items() if v}},
            )
        return out.getvalue()

    # ----- reading ---------------------------------------------------------------------------

    @staticmethod
    def _zone(s: Any, actor: Actor) -> str:
        return str(s.scalar(select(Clinic.time_zone).where(Clinic.id == actor.clinic_id)))

    @staticmethod
    def _query(wanted: AuditFilter, zone: str) -> Select[*tuple[Any, ...]]:
        if wanted.start and wanted.end and wanted.end < wanted.start:
            raise ValidationError("The end date is before the start date.", "end")
        conditions: list[ColumnElement[bool]] = []
        if wanted.start:
            start = clinic_local_to_utc(datetime.combine(wanted.start, time()), zone)
            conditions.append(AuditEvent.created_at >= start)
        if wanted.end:
            after = wanted.end + timedelta(days=1)
            conditions.append(
                AuditEvent.created_at < clinic_local_to_utc(datetime.combine(after, time()), zone)
            )
        if wanted.staff_id:
            conditions.append(AuditEvent.staff_id == wanted.staff_id)
        if wanted.kind:
            conditions.append(
                (AuditEvent.action == wanted.kind) | AuditEvent.action.startswith(f"{wanted.kind}.")
            )
        if wanted.patient_id:
            conditions.append(AuditEvent.patient_id == wanted.patient_id)
        words = " ".join(wanted.text.split())
        if words:
            conditions.append(func.lower(AuditEvent.summary).contains(words.lower(),
                                                                     autoescape=True))
        return (
            select(
                AuditEvent.id,
                AuditEvent.created_at,
                Staff.first_name,
                Staff.last_name,
                AuditEvent.workstation,
                AuditEvent.action,
                AuditEvent.summary,
                AuditEvent.details,
                Patient.legal_first_name,
                Patient.legal_last_name,
                Patient.preferred_name,
            )
            .outerjoin(Staff, Staff.id == AuditEvent.staff_id)
            .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
            .where(*conditions)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )


def _row(r: Any, zone: str) -> AuditRow:
    try:
        details = json.loads(r.details or "{}")
    except ValueError:
        details = {}
    patient = (
        display_name_of(r.legal_first_name, r.legal_last_name, r.preferred_name)
        if r.legal_last_name is not None
        else ""
    )
    return AuditRow(
        id=r.id,
        at=to_clinic_time(r.created_at, zone),
        who=f"{r.first_name} {r.last_name}" if r.first_name is not None else "—",
        workstation=r.workstation,
        action=r.action,
        kind=kind_label(kind_of(r.action)),
        summary=r.summary,
        patient=patient,
        details=details if isinstance(details, dict) else {"value": details},
    )
