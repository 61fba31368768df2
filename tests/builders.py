"""Small clinics for service tests, built through the same code the app uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from desk_app.models import AppointmentStatus, Location, Staff, TreatmentType
from desk_app.services.actor import Actor
from desk_app.services.auth import actor_for
from desk_app.services.db import Database
from desk_app.services.demo import create_demo_clinic
from desk_app.services.patient_input import PatientInput
from desk_app.services.registry import Services


@dataclass
class Clinic:
    db: Database
    services: Services
    owner: Actor
    desk: Actor  # Front Desk without the Billing permission
    billing: Actor
    practitioner_id: uuid.UUID
    location_id: uuid.UUID

    def actor(self, username: str) -> Actor:
        with self.db.reading() as s:
            return actor_for(s.scalars(select(Staff).where(Staff.username == username)).one(),
                             "DESK1")

    def treatment(self, name: str) -> uuid.UUID:
        with self.db.reading() as s:
            return s.scalars(select(TreatmentType.id).where(TreatmentType.name == name)).one()

    def patient(self, first: str = "Maddy", last: str = "Smith", **extra: object) -> uuid.UUID:
        data = PatientInput(legal_first_name=first, legal_last_name=last, **extra)  # type: ignore[arg-type]
        return self.services.patients.create(self.owner, data).id

    def visit(self, patient_id: uuid.UUID, treatment: str = "Massage 60 min",
              when: datetime = datetime(2026, 11, 20, 10, 0)) -> uuid.UUID:
        """Book, mark arrived and invoice a visit; returns the invoice id."""
        svc = self.services
        appt = svc.appointments.book(self.owner, patient_id, self.practitioner_id,
                                     self.treatment(treatment), self.location_id, when)
        svc.appointments.set_status(self.owner, appt, AppointmentStatus.ARRIVED)
        return svc.invoicing.invoice_appointment(self.owner, appt).invoice_id


def small_clinic(db: Database) -> Clinic:
    """The demo clinic's staff and catalog, with no patients."""
    create_demo_clinic(db, patients=0)
    services = Services.build(db)
    with db.reading() as s:
        owner = actor_for(s.scalars(select(Staff).where(Staff.username == "owner")).one(), "DESK1")
        desk = actor_for(s.scalars(select(Staff).where(Staff.username == "frontdesk2")).one(),
                         "DESK1")
        billing = actor_for(s.scalars(select(Staff).where(Staff.username == "billing")).one(),
                            "DESK1")
        practitioner = s.scalars(select(Staff.id).where(Staff.username == "dokoye")).one()
        location = s.scalars(select(Location.id).where(Location.name == "Downtown")).one()
    return Clinic(db, services, owner, desk, billing, practitioner, location)
