"""Appointments: who is seen, by whom, for what, where and when."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from desk_app.models.base import Base, Versioned
from desk_app.models.enums import AppointmentStatus, str_enum


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

    __table_args__ = (
        Index("ix_appointment_patient_starts", "patient_id", "starts_at"),
        Index("ix_appointment_practitioner_starts", "practitioner_id", "starts_at"),
    )
