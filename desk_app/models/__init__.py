"""Tables and value types. No Qt, no I/O."""

from desk_app.models.appointment import Appointment
from desk_app.models.audit import AuditEvent
from desk_app.models.base import Base, new_id
from desk_app.models.billing import Allocation, Invoice, InvoiceLine, Payment, Refund
from desk_app.models.catalog import Discipline, Product, TreatmentType
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import (
    AppointmentStatus,
    CollectedBy,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    Role,
)
from desk_app.models.money import AmountError, Money, format_money, parse_money
from desk_app.models.patient import Patient, PatientSearchToken
from desk_app.models.staff import Staff

__all__ = [
    "Allocation",
    "AmountError",
    "Appointment",
    "AppointmentStatus",
    "AuditEvent",
    "Base",
    "Clinic",
    "CollectedBy",
    "Discipline",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "LineKind",
    "Location",
    "Money",
    "Patient",
    "PatientSearchToken",
    "Payment",
    "PaymentMethod",
    "Product",
    "Refund",
    "Role",
    "Staff",
    "TreatmentType",
    "format_money",
    "new_id",
    "parse_money",
]
