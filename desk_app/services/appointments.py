"""Booking appointments and marking how they went. A simple form, not a calendar."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk_app.models.appointment import Appointment
from desk_app.models.billing import Invoice, InvoiceLine, invoice_number
from desk_app.models.catalog import TreatmentType
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import AppointmentStatus, InvoiceStatus, Role
from desk_app.models.patient import Patient
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
        """The patient's visits: upcoming (soonest first) and history (latest first).

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
            rows = conn.execute(
                select(
                    raw_id(Appointment.id),
                    Appointment.starts_at,
                    Appointment.ends_at,
                    Appointment.status,
                    Staff.first_name,
                    Staff.last_name,
                    Staff.title,
                    TreatmentType.name.label("treatment"),
                    Location.name.label("location"),
                )
                .join(Staff, Staff.id == Appointment.practitioner_id)
                .join(TreatmentType, TreatmentType.id == Appointment.treatment_type_id)
                .join(Location, Location.id == Appointment.location_id)
                .where(Appointment.patient_id == patient_id)
                .order_by(Appointment.starts_at)
            ).all()
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
            row = AppointmentRow(
                id=uid(appt.id),
                starts_at=appt.starts_at.astimezone(zone),
                ends_at=appt.ends_at.astimezone(zone),
                practitioner=label,
                treatment=appt.treatment,
                location=appt.location,
                status=appt.status,
                invoice_number=invoiced.get(appt.id, ""),
            )
            is_upcoming = appt.ends_at >= now and appt.status == AppointmentStatus.BOOKED
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
    ) -> uuid.UUID:
        """Book a visit; `starts_local` is wall-clock time at the clinic."""
        require(actor, Permission.BOOK_APPOINTMENTS)
        require_own_day(actor, practitioner_id)
        with self.db.transaction() as s:
            require_patient(s, actor, patient_id)
            clinic = s.get_one(Clinic, actor.clinic_id)
            if s.get(Patient, patient_id) is None:
                raise NotFound("That patient no longer exists.")
            practitioner = s.get(Staff, practitioner_id)
            if practitioner is None or practitioner.role != Role.PRACTITIONER:
                raise ValidationError("Choose a practitioner.", "practitioner")
            treatment = s.get(TreatmentType, treatment_type_id)
            if treatment is None or treatment.archived:
                raise ValidationError("Choose a treatment.", "treatment")
            if s.get(Location, location_id) is None:
                raise ValidationError("Choose a location.", "location")
            starts = clinic_local_to_utc(starts_local, clinic.time_zone)
            ends = starts + timedelta(minutes=treatment.duration_minutes)
            self._refuse_double_booking(s, practitioner, starts, ends, clinic.time_zone)
            appt = Appointment(
                clinic_id=actor.clinic_id,
                patient_id=patient_id,
                practitioner_id=practitioner_id,
                treatment_type_id=treatment_type_id,
                location_id=location_id,
                starts_at=starts,
                ends_at=ends,
                status=AppointmentStatus.BOOKED,
            )
            s.add(appt)
            s.flush()
            local = to_clinic_time(starts, clinic.time_zone)
            audit.record(
                s,
                actor,
                "appointment.booked",
                entity=appt,
                patient_id=patient_id,
                summary=f"Booked {treatment.name} on {local:%Y-%m-%d %H:%M}",
            )
            return appt.id

    def set_status(
        self, actor: Actor, appointment_id: uuid.UUID, status: AppointmentStatus
    ) -> None:
        require(actor, Permission.BOOK_APPOINTMENTS)
        with self.db.transaction() as s:
            appt = s.get(Appointment, appointment_id)
            if appt is None:
                raise NotFound("That appointment no longer exists.")
            require_own_day(actor, appt.practitioner_id)
            if appt.status == status:
                return
            if status == AppointmentStatus.CANCELLED:
                on_invoice = s.scalar(
                    select(Invoice.id)
                    .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                    .where(
                        InvoiceLine.appointment_id == appt.id, Invoice.status == InvoiceStatus.OPEN
                    )
                )
                if on_invoice is not None:
                    raise Conflict(
                        "This visit is invoiced. Delete its invoice before "
                        "cancelling the appointment."
                    )
            before = appt.status
            appt.status = status
            audit.record(
                s,
                actor,
                "appointment.status",
                entity=appt,
                patient_id=appt.patient_id,
                summary=f"{before.label} → {status.label}",
                details={"before": before.value, "after": status.value},
            )

    @staticmethod
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
