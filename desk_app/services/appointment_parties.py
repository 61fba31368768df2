"""Who is on a group or class appointment, and whose invoice and package pay for a place.

The rule (the Packages FAQ's): a group visit's one invoice goes to its primary client, so
only the primary client's package pays for it; a class bills each participant for their own
place, and each participant's own package pays for it. An individual visit is the patient's.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment, AppointmentParticipant
from desk_app.models.enums import AppointmentKind, AppointmentStatus
from desk_app.models.patient import Patient
from desk_app.services.errors import Conflict, NotFound


def participants_of(s: Session, appointment_id: uuid.UUID) -> list[AppointmentParticipant]:
    """Everyone on a group or class, the primary client first, then by name."""
    return list(s.scalars(
        select(AppointmentParticipant)
        .join(Patient, Patient.id == AppointmentParticipant.patient_id)
        .where(AppointmentParticipant.appointment_id == appointment_id)
        .order_by(AppointmentParticipant.is_primary.desc(), Patient.legal_last_name,
                  Patient.legal_first_name, Patient.id)
    ))


def participant(s: Session, appt: Appointment,
                patient_id: uuid.UUID) -> AppointmentParticipant | None:
    return s.scalar(select(AppointmentParticipant).where(
        AppointmentParticipant.appointment_id == appt.id,
        AppointmentParticipant.patient_id == patient_id))


def payer_of(s: Session, appt: Appointment, patient_id: uuid.UUID | None) -> uuid.UUID:
    """Whose invoice and package pay for ``patient_id``'s place (None: the appointment's
    own patient): the patient of an individual visit, a group's primary client, or the class
    participant themself."""
    if patient_id is None or patient_id == appt.patient_id:
        return appt.patient_id
    if appt.kind is AppointmentKind.INDIVIDUAL or participant(s, appt, patient_id) is None:
        raise NotFound("That patient is not on this appointment.")
    return appt.patient_id if appt.kind is AppointmentKind.GROUP else patient_id


def refuse_cancelled_place(s: Session, appt: Appointment, payer: uuid.UUID) -> None:
    """A class participant whose own place was cancelled is neither covered nor invoiced."""
    if appt.kind is AppointmentKind.INDIVIDUAL:
        return
    place = participant(s, appt, payer)
    if place is not None and place.status is AppointmentStatus.CANCELLED:
        name = s.get_one(Patient, payer).display_name
        raise Conflict(f"{name}'s place was cancelled; it is not billed and no package is "
                       "used on it. Change its status first if they came.")


def name_of(s: Session, patient_id: uuid.UUID) -> str:
    return s.get_one(Patient, patient_id).display_name


def group_line_description(s: Session, appt: Appointment, description: str) -> str:
    """A group's invoice line lists the secondary clients who attended (FAQ: the primary
    client's invoice "lists all the Secondary Clients")."""
    if appt.kind is not AppointmentKind.GROUP:
        return description
    others = [name_of(s, p.patient_id) for p in participants_of(s, appt.id)
              if not p.is_primary and p.status not in (AppointmentStatus.CANCELLED,
                                                       AppointmentStatus.NO_SHOW)]
    if not others:
        return description
    return f"{description}; group with {', '.join(others)}"[:300]
