"""Finding patients, opening a profile, adding and editing a patient's details."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from desk_app.models.audit import AuditEvent
from desk_app.models.clinic import Clinic
from desk_app.models.patient import Patient, PatientSearchToken
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_today
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound
from desk_app.services.patient_input import PatientInput, clean_patient_input
from desk_app.services.permissions import Permission, require
from desk_app.services.search_tokens import (
    PatientSearchFields,
    prefix_upper_bound,
    query_terms,
    sort_key,
    tokens_for,
)

SEARCH_LIMIT = 50


@dataclass(frozen=True, slots=True)
class PatientSummary:
    id: uuid.UUID
    display_name: str
    legal_name: str
    date_of_birth: date | None
    mobile_phone: str
    email: str


@dataclass(frozen=True, slots=True)
class PatientDetails:
    id: uuid.UUID
    version: int
    display_name: str
    data: PatientInput


def summary_of(p: Patient) -> PatientSummary:
    return PatientSummary(
        id=p.id,
        display_name=p.display_name,
        legal_name=p.legal_name,
        date_of_birth=p.date_of_birth,
        mobile_phone=p.mobile_phone,
        email=p.email,
    )


def details_of(p: Patient) -> PatientDetails:
    data = PatientInput(**{name: getattr(p, name) for name in PatientInput.__slots__})
    return PatientDetails(id=p.id, version=p.version, display_name=p.display_name, data=data)


def refresh_search_tokens(session: Session, patient: Patient) -> None:
    """Rebuild one patient's search tokens and sort key from their current details."""
    patient.sort_key = sort_key(
        patient.legal_last_name, patient.legal_first_name, patient.preferred_name
    )
    fields = PatientSearchFields(
        legal_first_name=patient.legal_first_name,
        legal_last_name=patient.legal_last_name,
        preferred_name=patient.preferred_name,
        date_of_birth=patient.date_of_birth,
        mobile_phone=patient.mobile_phone,
        email=patient.email,
        home_phone=patient.home_phone,
    )
    session.execute(delete(PatientSearchToken).where(PatientSearchToken.patient_id == patient.id))
    session.add_all(
        PatientSearchToken(patient_id=patient.id, token=t) for t in sorted(tokens_for(fields))
    )


def search_statement(query: str, limit: int = SEARCH_LIMIT):  # type: ignore[no-untyped-def]
    """The SELECT behind the search box: every term must prefix-match one of a patient's tokens."""
    terms = query_terms(query)
    if not terms:
        return None
    stmt = select(Patient).where(Patient.archived.is_(False))
    for alternatives in terms:
        ranges = [
            and_(
                PatientSearchToken.token >= alt, PatientSearchToken.token < prefix_upper_bound(alt)
            )
            for alt in alternatives
        ]
        matching = select(PatientSearchToken.patient_id).where(or_(*ranges))
        stmt = stmt.where(Patient.id.in_(matching))
    return stmt.order_by(Patient.sort_key, Patient.id).limit(limit)


class PatientService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def search(self, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[PatientSummary]:
        require(actor, Permission.VIEW_PATIENTS)
        stmt = search_statement(query[:200], limit)
        if stmt is None:
            return []
        with self.db.reading() as s:
            return [summary_of(p) for p in s.scalars(stmt)]

    def get(self, actor: Actor, patient_id: uuid.UUID) -> PatientDetails:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            return details_of(self._load(s, patient_id))

    def open_profile(self, actor: Actor, patient_id: uuid.UUID) -> PatientDetails:
        """Open a patient's profile; the view is logged so 'recent patients' and audits work."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.transaction() as s:
            p = self._load(s, patient_id)
            audit.record(s, actor, "patient.viewed", entity=p, patient_id=p.id)
            return details_of(p)

    def recent(self, actor: Actor, limit: int = 10) -> list[PatientSummary]:
        """The patients this staff member opened most recently, newest first."""
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            last_seen = (
                select(AuditEvent.patient_id, func.max(AuditEvent.created_at).label("seen"))
                .where(AuditEvent.staff_id == actor.staff_id)
                .where(AuditEvent.action == "patient.viewed")
                .group_by(AuditEvent.patient_id)
                .subquery()
            )
            rows = s.scalars(
                select(Patient)
                .join(last_seen, last_seen.c.patient_id == Patient.id)
                .where(Patient.archived.is_(False))
                .order_by(last_seen.c.seen.desc())
                .limit(limit)
            )
            return [summary_of(p) for p in rows]

    def create(self, actor: Actor, data: PatientInput) -> PatientDetails:
        require(actor, Permission.EDIT_PATIENTS)
        with self.db.transaction() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            clean = clean_patient_input(data, clinic_today(self.db.clock, clinic.time_zone))
            p = Patient(clinic_id=actor.clinic_id, **clean.as_dict())
            s.add(p)
            s.flush()
            refresh_search_tokens(s, p)
            audit.record(
                s,
                actor,
                "patient.created",
                entity=p,
                patient_id=p.id,
                summary=f"Added patient {p.display_name}",
            )
            s.flush()
            return details_of(p)

    def update(
        self, actor: Actor, patient_id: uuid.UUID, data: PatientInput, expected_version: int
    ) -> PatientDetails:
        require(actor, Permission.EDIT_PATIENTS)
        with self.db.transaction() as s:
            p = self._load(s, patient_id)
            if p.version != expected_version:
                raise Conflict(
                    f"{p.display_name}'s details were changed by someone else while you were "
                    "editing. Your changes were not saved; reopen the profile and try again."
                )
            clinic = s.get_one(Clinic, actor.clinic_id)
            clean = clean_patient_input(data, clinic_today(self.db.clock, clinic.time_zone))
            before = details_of(p).data.as_dict()
            after = clean.as_dict()
            changed = {
                k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]
            }
            if not changed:
                return details_of(p)
            for key, value in after.items():
                setattr(p, key, value)
            refresh_search_tokens(s, p)
            audit.record(
                s,
                actor,
                "patient.updated",
                entity=p,
                patient_id=p.id,
                summary="Changed " + ", ".join(sorted(changed)),
                details=changed,
            )
            s.flush()
            return details_of(p)

    @staticmethod
    def _load(s: Session, patient_id: uuid.UUID) -> Patient:
        p = s.get(Patient, patient_id)
        if p is None:
            raise NotFound("That patient no longer exists.")
        return p
