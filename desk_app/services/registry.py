"""Every use-case service of one open database, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from desk_app.services.appointments import AppointmentService
from desk_app.services.auth import AuthService
from desk_app.services.clinic_settings import ClinicSettingsService
from desk_app.services.db import Database
from desk_app.services.invoicing import InvoicingService
from desk_app.services.ledger import LedgerService
from desk_app.services.patients import PatientService


@dataclass(frozen=True)
class Services:
    db: Database
    auth: AuthService
    patients: PatientService
    appointments: AppointmentService
    ledger: LedgerService
    invoicing: InvoicingService
    clinic: ClinicSettingsService

    @classmethod
    def build(cls, db: Database) -> Services:
        return cls(
            db=db,
            auth=AuthService(db),
            patients=PatientService(db),
            appointments=AppointmentService(db),
            ledger=LedgerService(db),
            invoicing=InvoicingService(db),
            clinic=ClinicSettingsService(db),
        )
