"""Booking appointments and marking how they went. A simple form, not a calendar."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, String, select, type_coerce
from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment, AppointmentParticipant
from desk_app.models.billing import Invoice, InvoiceLine, invoice_number
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import AppointmentKind, AppointmentStatus, InvoiceStatus, Role
from desk_app.models.patient import Patient, display_name_of
from desk_app.models.staff import Staff, full_name_of
from desk_app.services import audit
from desk_app.services.actor import Actor
from desk_app.services.clock import clinic_local_to_utc, to_clinic_time
from desk_app.services.db import Database
from desk_app.services.errors import Conflict, NotFound, ValidationError
from desk_app.services.patient_access import (
    require_own_day,
    require_patient,
    sees_only_own_patients,
)
from desk_app.services.permissions import Permission, require
from desk_app.services.row_ids import Ids, raw_id

_INDIVIDUAL = AppointmentKind.INDIVIDUAL.value


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    id: uuid.UUID
    starts_at: datetime  # in the clinic's time zone
    ends_at: datetime
    practitioner: str
    treatment: str
    location: str
    status: AppointmentStatus
    invoice_number: str  # "" when not invoiced
    kind: AppointmentKind = AppointmentKind.INDIVIDUAL
    # A group or class: who else is on it ("group with Leo Silva", "class of 4").
    party: str = ""
    # A secondary client of a group: the primary client, who is billed for it.
    billed_to: str = ""


@dataclass(frozen=True, slots=True)
class Booking:
    """One appointment to book; ``starts_local`` is wall-clock time at the clinic. A group's
    ``patient_id`` is its primary client; a class's is the participant it is booked from."""

    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    treatment_type_id: uuid.UUID
    location_id: uuid.UUID
    starts_local: datetime
    kind: AppointmentKind = AppointmentKind.INDIVIDUAL
    others: tuple[uuid.UUID, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PatientAppointments:
    upcoming: list[AppointmentRow]
    history: list[AppointmentRow]


@dataclass(frozen=True, slots=True)
class Choice:
    id: uuid.UUID
    label: str


@dataclass(frozen=True, slots=True)
class BookingOptions:
    practitioners: list[Choice]
    treatments: list[Choice]
    locations: list[Choice]
    time_zone: str


def practitioner_label(staff: Staff) -> str:
    return practitioner_label_of(staff.first_name, staff.last_name, staff.title)


def practitioner_label_of(first_name: str, last_name: str, title: str) -> str:
    """practitioner_label from the column values: "Daniel Okoye, RMT"."""
    full_name = full_name_of(first_name, last_name)
    return f"{full_name}, {title}" if title else full_name


class AppointmentService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def booking_options(self, actor: Actor) -> BookingOptions:
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            clinic = s.get_one(Clinic, actor.clinic_id)
            practitioners = [
                Choice(st.id, practitioner_label(st))
                for st in s.scalars(
                    select(Staff)
                    .where(
                        Staff.clinic_id == actor.clinic_id,
                        Staff.role == Role.PRACTITIONER,
                        Staff.active.is_(True),
                        # a practitioner books their own day only
                        *([Staff.id == actor.staff_id] if sees_only_own_patients(actor) else []),
                    )
                    .order_by(Staff.last_name, Staff.first_name)
                )
            ]
            treatments = [
                Choice(t.id, f"{t.name} ({t.duration_minutes} min)")
                for t in s.scalars(
                    select(TreatmentType)
                    .where(TreatmentType.archived.is_(False))
                    .order_by(TreatmentType.name)
                )
            ]
            locations = [
                Choice(loc.id, loc.name)
                for loc in s.scalars(
                    select(Location)
                    .where(Location.clinic_id == actor.clinic_id, Location.archived.is_(False))
                    .order_by(Location.name)
                )
            ]
            return BookingOptions(practitioners, treatments, locations, clinic.time_zone)

    def for_patient(self, actor: Actor, patient_id: uuid.UUID) -> PatientAppointments:
        """The patient's visits: upcoming (soonest first) and history (latest first), with the
        groups and classes they are a participant of.

        Read as columns, not entities, with ids as stored (services.row_ids): years of visits
        make thousands of objects otherwise.
        """
        require(actor, Permission.VIEW_PATIENTS)
        with self.db.reading() as s:
            require_patient(s, actor, patient_id)
            conn = s.connection()  # Core: plain column rows need no ORM row handling
            tz = conn.execute(
                select(Clinic.time_zone).where(Clinic.id == actor.clinic_id)
            ).scalar_one()
            columns = select(
                raw_id(Appointment.id),
                Appointment.starts_at,
                Appointment.ends_at,
                Appointment.status,
                # As stored: nearly every visit is individual, and a plain string compares
                # without building an enum member per row.
                type_coerce(Appointment.kind, String).label("kind"),
                Staff.first_name,
                Staff.last_name,
                Staff.title,
                TreatmentType.name.label("treatment"),
                Location.name.label("location"),
            ).join(Staff, Staff.id == Appointment.practitioner_id).join(
                TreatmentType, TreatmentType.id == Appointment.treatment_type_id
            ).join(Location, Location.id == Appointment.location_id)
            rows = list(conn.execute(
                columns.where(Appointment.patient_id == patient_id).order_by(Appointment.starts_at)
            ).all())
            # Groups and classes booked from another patient's profile: most patients have
            # none, which one read of the participant index says.
            joined: Sequence[Row[Any]] = ()
            if conn.execute(select(AppointmentParticipant.id).where(
                    AppointmentParticipant.patient_id == patient_id).limit(1)).first():
                joined = conn.execute(
                    columns.join(AppointmentParticipant,
                                 AppointmentParticipant.appointment_id == Appointment.id)
                    .where(AppointmentParticipant.patient_id == patient_id,
                           Appointment.patient_id != patient_id)
                ).all()
            if joined:
                rows = sorted([*rows, *joined], key=lambda r: r.starts_at)
            parties = _parties(conn, [r.id for r in rows if r.kind != _INDIVIDUAL])
            invoiced = {
                aid: invoice_number(ws, seq)
                for aid, ws, seq in conn.execute(
                    select(raw_id(InvoiceLine.appointment_id), Invoice.workstation, Invoice.seq)
                    .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                    .where(
                        Invoice.patient_id == patient_id,
                        Invoice.status == InvoiceStatus.OPEN,
                        InvoiceLine.appointment_id.is_not(None),
                    )
                )
            }
        now = self.db.clock.now()
        zone = ZoneInfo(tz)
        uid = Ids()
        labels: dict[tuple[str, str, str], str] = {}
        upcoming: list[AppointmentRow] = []
        history: list[AppointmentRow] = []
        for appt in rows:
            who = (appt.first_name, appt.last_name, appt.title)
            label = labels.get(who)
            if label is None:
                label = labels[who] = practitioner_label_of(*who)
            status, party, billed_to, kind = appt.status, "", "", AppointmentKind.INDIVIDUAL
            if appt.kind != _INDIVIDUAL:
                kind = AppointmentKind(appt.kind)
                status, party, billed_to = _place_of(kind, appt.status,
                                                     parties.get(appt.id, []), patient_id)
            row = AppointmentRow(
                id=uid(appt.id),
                starts_at=appt.starts_at.astimezone(zone),
                ends_at=appt.ends_at.astimezone(zone),
                practitioner=label,
                treatment=appt.treatment,
                location=appt.location,
                status=status,
                invoice_number=invoiced.get(appt.id, ""),
                kind=kind,
                party=party,
                billed_to=billed_to,
            )
            is_upcoming = appt.ends_at >= now and status == AppointmentStatus.BOOKED
            (upcoming if is_upcoming else history).append(row)
        history.reverse()
        return PatientAppointments(upcoming, history)

    def book(
        self,
        actor: Actor,
        patient_id: uuid.UUID,
        practitioner_id: uuid.UUID,
        treatment_type_id: uuid.UUID,
        location_id: uuid.UUID,
        starts_local: datetime,
        *,
        kind: AppointmentKind = AppointmentKind.INDIVIDUAL,
        others: Sequence[uuid.UUID] = (),
    ) -> uuid.UUID:
        """Book a visit; `starts_local` is wall-clock time at the clinic. A group
        (`patient_id` its primary client) or a class takes the `others` as participants."""
        require(actor, Permission.BOOK_APPOINTMENTS)
        require_own_day(actor, practitioner_id)
        booking = Booking(patient_id, practitioner_id, treatment_type_id, location_id,
                          starts_local, kind, tuple(others))
        with self.db.transaction() as s:
            for someone in (patient_id, *others):
                require_patient(s, actor, someone)
            return book_in(s, actor, booking).id

    def set_status(
        self, actor: Actor, appointment_id: uuid.UUID, status: AppointmentStatus,
        patient_id: uuid.UUID | None = None,
    ) -> None:
        """Mark a visit. On a group or class, ``patient_id`` marks that participant's place
        alone (a group's primary client marks the whole group)."""
        require(actor, Permission.BOOK_APPOINTMENTS)
        with self.db.transaction() as s:
            appt = s.get(Appointment, appointment_id)
            if appt is None:
                raise NotFound("That appointment no longer exists.")
            require_own_day(actor, appt.practitioner_id)
            place = None
            if appt.kind != AppointmentKind.INDIVIDUAL and patient_id is not None:
                place = s.scalar(select(AppointmentParticipant).where(
                    AppointmentParticipant.appointment_id == appt.id,
                    AppointmentParticipant.patient_id == patient_id))
                if place is None:
                    raise NotFound("That patient is not on this appointment.")
            whole = place is None or (appt.kind is AppointmentKind.GROUP and place.is_primary)
            before = appt.status if whole or place is None else place.status
            if before == status:
                return
            if status == AppointmentStatus.CANCELLED:
                invoiced = (select(Invoice.id)
                            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                            .where(InvoiceLine.appointment_id == appt.id,
                                   Invoice.status == InvoiceStatus.OPEN))
                if not whole and place is not None:
                    invoiced = invoiced.where(Invoice.patient_id == place.patient_id)
                if s.scalar(invoiced.limit(1)) is not None:
                    raise Conflict(
                        "This visit is invoiced. Delete its invoice before "
                        "cancelling the appointment."
                    )
            if whole:
                appt.status = status
            if place is not None:
                place.status = status
            who = patient_id if patient_id is not None else appt.patient_id
            audit.record(
                s,
                actor,
                "appointment.status",
                entity=appt,
                patient_id=who,
                summary=f"{before.label} → {status.label}",
                details={"before": before.value, "after": status.value,
                         "whole": whole},
            )


def _refuse_double_booking(
    s: Session, practitioner: Staff, starts: datetime, ends: datetime, tz: str
) -> None:
    clash = s.scalar(
        select(Appointment)
        .where(
            Appointment.practitioner_id == practitioner.id,
            Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED]),
            Appointment.starts_at < ends,
            Appointment.ends_at > starts,
        )
        .limit(1)
    )
    if clash is not None:
        a = to_clinic_time(clash.starts_at, tz)
        b = to_clinic_time(clash.ends_at, tz)
        raise Conflict(
            f"{practitioner.full_name} is already booked {a:%Y-%m-%d %H:%M}"
            f"–{b:%H:%M}. Choose another time."
        )


def book_in(s: Session, actor: Actor, booking: Booking) -> Appointment:
    """Book inside the caller's transaction (booking copies books several at once)."""
    clinic = s.get_one(Clinic, actor.clinic_id)
    patient = s.get(Patient, booking.patient_id)
    if patient is None:
        raise NotFound("That patient no longer exists.")
    names = _participant_names(s, actor, booking, patient)
    practitioner = s.get(Staff, booking.practitioner_id)
    if practitioner is None or practitioner.role != Role.PRACTITIONER:
        raise ValidationError("Choose a practitioner.", "practitioner")
    treatment = s.get(TreatmentType, booking.treatment_type_id)
    if treatment is None or treatment.archived:
        raise ValidationError("Choose a treatment.", "treatment")
    if s.get(Location, booking.location_id) is None:
        raise ValidationError("Choose a location.", "location")
    starts = clinic_local_to_utc(booking.starts_local, clinic.time_zone)
    ends = starts + timedelta(minutes=treatment.duration_minutes)
    _refuse_double_booking(s, practitioner, starts, ends, clinic.time_zone)
    appt = Appointment(
        clinic_id=actor.clinic_id,
        patient_id=booking.patient_id,
        practitioner_id=booking.practitioner_id,
        treatment_type_id=booking.treatment_type_id,
        location_id=booking.location_id,
        starts_at=starts,
        ends_at=ends,
        status=AppointmentStatus.BOOKED,
        kind=booking.kind,
    )
    s.add(appt)
    s.flush()
    local = to_clinic_time(starts, clinic.time_zone)
    summary = f"Booked {treatment.name} on {local:%Y-%m-%d %H:%M}"
    if booking.kind is AppointmentKind.INDIVIDUAL:
        audit.record(s, actor, "appointment.booked", entity=appt,
                     patient_id=booking.patient_id, summary=summary)
        return appt
    everyone = (booking.patient_id, *booking.others)
    for pid in everyone:
        s.add(AppointmentParticipant(
            appointment_id=appt.id, patient_id=pid, status=AppointmentStatus.BOOKED,
            is_primary=booking.kind is AppointmentKind.GROUP and pid == booking.patient_id))
    s.flush()
    if booking.kind is AppointmentKind.GROUP:
        party = (f"group; primary client {names[booking.patient_id]}, with "
                 f"{', '.join(names[o] for o in booking.others)}")
    else:
        party = f"class of {len(everyone)}: {', '.join(names[p] for p in everyone)}"
    for pid in everyone:  # in every participant's own history
        audit.record(s, actor, "appointment.booked", entity=appt, patient_id=pid,
                     summary=f"{summary} ({party})"[:500],
                     details={"kind": booking.kind.value})
    return appt


def _participant_names(s: Session, actor: Actor, booking: Booking,
                       patient: Patient) -> dict[uuid.UUID, str]:
    names = {patient.id: patient.display_name}
    if booking.kind is AppointmentKind.INDIVIDUAL:
        if booking.others:
            raise ValidationError("An individual appointment has one patient. Choose Group or "
                                  "Class to add other participants.", "participants")
        return names
    if not booking.others:
        raise ValidationError(f"Add at least one other participant to the "
                              f"{booking.kind.label.lower()}.", "participants")
    for pid in booking.others:
        other = s.get(Patient, pid)
        if other is None or other.clinic_id != actor.clinic_id:
            raise NotFound("One of the participants no longer exists.")
        if pid in names:
            raise ValidationError(f"{other.display_name} is already in this "
                                  f"{booking.kind.label.lower()}; add each patient once.",
                                  "participants")
        names[pid] = other.display_name
    return names


def _parties(conn: Connection, appointment_ids: list[object]) -> dict[object, list[Row[Any]]]:
    """Participants (name, primary flag, status, patient id as stored) of these appointments."""
    out: dict[object, list[Row[Any]]] = {}
    uid = Ids()
    if not appointment_ids:
        return out
    for row in conn.execute(
        select(raw_id(AppointmentParticipant.appointment_id).label("appointment_id"),
               raw_id(AppointmentParticipant.patient_id).label("patient_id"),
               AppointmentParticipant.is_primary, AppointmentParticipant.status,
               Patient.legal_first_name, Patient.legal_last_name, Patient.preferred_name)
        .join(Patient, Patient.id == AppointmentParticipant.patient_id)
        .where(AppointmentParticipant.appointment_id.in_([uid(a) for a in appointment_ids]))
        .order_by(AppointmentParticipant.is_primary.desc(), Patient.legal_last_name,
                  Patient.legal_first_name)
    ):
        out.setdefault(row.appointment_id, []).append(row)
    return out


def _place_of(kind: AppointmentKind, status: AppointmentStatus, party: list[Row[Any]],
              patient_id: uuid.UUID) -> tuple[AppointmentStatus, str, str]:
    """(this patient's status, who else is there, who is billed when it is someone else)."""
    me = next((p for p in party if uuid.UUID(str(p.patient_id)) == patient_id), None)
    others = [display_name_of(p.legal_first_name, p.legal_last_name, p.preferred_name)
              for p in party if p is not me]
    if kind is AppointmentKind.CLASS:
        return (me.status if me is not None else status,
                f"class of {len(party)}", "")
    primary = next((p for p in party if p.is_primary), None)
    billed_to = ""
    if me is not None and not me.is_primary and primary is not None:
        billed_to = display_name_of(primary.legal_first_name, primary.legal_last_name,
                                    primary.preferred_name)
    own = status if me is None or me.is_primary else me.status
    return own, "group with " + ", ".join(others), billed_to
