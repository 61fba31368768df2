"""Which patients a staff member may see: everyone, or a practitioner's own patients.

A Practitioner sees "their own patients and day": the patients who have (or had) an
appointment with them, in any status, including a place in a group or class of theirs. Every
other role sees every patient of the clinic. The rule is checked in the services (search,
recent patients, and every read or action that names a patient, an invoice, a card, a package
or an appointment), not only in the views.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Protocol

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment, AppointmentParticipant
from desk_app.models.enums import Role
from desk_app.services.actor import Actor
from desk_app.services.errors import PermissionDenied
from desk_app.services.permissions import Permission, require

log = logging.getLogger(__name__)


def sees_only_own_patients(actor: Actor) -> bool:
    return actor.role is Role.PRACTITIONER


def own_patient_clause(staff_id: Any, patient_id: Any) -> ColumnElement[bool]:
    """True for a patient with an appointment with this practitioner (`staff_id`: their id
    or a bind parameter holding it), in any status, as its patient or as a participant of a
    group or class. One probe of ix_appointment_patient_practitioner (and of the participant
    index) per patient."""
    booked = exists().where(
        Appointment.patient_id == patient_id, Appointment.practitioner_id == staff_id
    )
    joined = exists().where(
        AppointmentParticipant.patient_id == patient_id,
        Appointment.id == AppointmentParticipant.appointment_id,
        Appointment.practitioner_id == staff_id,
    )
    return or_(booked, joined)


def require_patient(s: Session, actor: Actor, patient_id: uuid.UUID) -> None:
    """Refuse, with a reason, a patient this actor may not see (and say so in the log)."""
    require(actor, Permission.VIEW_PATIENTS)
    if not sees_only_own_patients(actor):
        return
    if s.scalar(select(own_patient_clause(actor.staff_id, patient_id))):
        return
    log.warning("denied: %s (%s) opened a patient outside their own", actor.staff_id,
                actor.role.value)
    raise PermissionDenied(
        f"{actor.name} ({actor.role.label}) can see only their own patients: this patient has "
        "no appointment with them. Ask the front desk to book the visit first, or to look "
        "this up for you."
    )


def require_own_day(actor: Actor, practitioner_id: uuid.UUID) -> None:
    """A practitioner books and changes only their own appointments."""
    if sees_only_own_patients(actor) and practitioner_id != actor.staff_id:
        log.warning("denied: %s (%s) acted on another practitioner's day", actor.staff_id,
                    actor.role.value)
        raise PermissionDenied(
            f"{actor.name} ({actor.role.label}) works with their own appointments only. Ask "
            "the front desk to do this for another practitioner."
        )


class _HasPatient(Protocol):
    id: Any
    patient_id: Any


def require_patient_of(
    s: Session, actor: Actor, model: type[_HasPatient], row_id: uuid.UUID
) -> None:
    """require_patient for the patient a row (invoice, payment, card, appointment…) belongs to.

    A row that does not exist passes: the call goes on to say it is gone.
    """
    require(actor, Permission.VIEW_PATIENTS)
    if not sees_only_own_patients(actor):
        return
    patient_id = s.scalar(select(model.patient_id).where(model.id == row_id))
    if patient_id is not None:
        require_patient(s, actor, patient_id)
