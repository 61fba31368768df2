"""Appointments: who is seen, by whom, for what, where and when.

An individual appointment has one patient (``patient_id``). A group or a class has
participants (``AppointmentParticipant``, every one of them, the first included):
- a **group** is billed to its primary client (``patient_id``, the participant with
  ``is_primary``), so the primary client's package pays for it;
- a **class** bills each participant for their own place, and each participant's own package
  pays for it; ``patient_id`` is the participant the class was booked from.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned
from desk_app.models.enums import AppointmentKind, AppointmentStatus, str_enum


class Appointment(Versioned, Base):
    __tablename__ = "appointment"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    treatment_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_type.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[AppointmentKind] = mapped_column(
        str_enum(AppointmentKind), default=AppointmentKind.INDIVIDUAL,
        server_default=AppointmentKind.INDIVIDUAL.value,
    )

    __table_args__ = (
        Index("ix_appointment_patient_starts", "patient_id", "starts_at"),
        Index("ix_appointment_practitioner_starts", "practitioner_id", "starts_at"),
        # "Is this one of the practitioner's own patients?" in one probe (patient_access).
        Index("ix_appointment_patient_practitioner", "patient_id", "practitioner_id"),
    )


class AppointmentParticipant(Versioned, Base):
    """A patient in a group or a class, with their own attendance (status)."""

    __tablename__ = "appointment_participant"

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )

    __table_args__ = (UniqueConstraint("appointment_id", "patient_id"),)
