"""Tables and value types. No Qt, no I/O."""

from desk_app.models.appointment import Appointment, AppointmentParticipant
from desk_app.models.audit import AuditEvent
from desk_app.models.base import Base, new_id
from desk_app.models.billing import Allocation, Invoice, InvoiceLine, Payment, Refund
from desk_app.models.billing_notices import (
    BillingNotice,
    NoticeChannel,
    NoticeKind,
    NoticeSettings,
    NoticeStatus,
    StaffNotification,
)
from desk_app.models.card_attempts import ChargeAttempt, ChargeAttemptInvoice, RefundAttempt
from desk_app.models.cards import CardOnFile, PaymentAccount, StripeCustomer
from desk_app.models.catalog import Discipline, Product, TreatmentType
from desk_app.models.clinic import Clinic, Location
from desk_app.models.enums import (
    AccountMode,
    AppointmentStatus,
    AttemptPurpose,
    AttemptStatus,
    CollectedBy,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    Role,
)
from desk_app.models.money import AmountError, Money, format_money, parse_money
from desk_app.models.packages import (
    DeskNotice,
    HouseholdMember,
    Membership,
    PackagePlan,
    PackagePlanItem,
    PackageRedemption,
    PackageSale,
    PackageSaleItem,
)
from desk_app.models.patient import Patient, PatientSearchPrefix, PatientSearchToken
from desk_app.models.staff import Staff
from desk_app.models.sync import (
    SyncChangeLog,
    SyncConflict,
    SyncMeta,
    SyncOutbox,
    SyncPushReceipt,
    SyncState,
    SyncWorkstation,
)

__all__ = [
    "AccountMode",
    "Allocation",
    "AmountError",
    "Appointment",
    "AppointmentParticipant",
    "AppointmentStatus",
    "AttemptPurpose",
    "AttemptStatus",
    "AuditEvent",
    "Base",
    "BillingNotice",
    "CardOnFile",
    "ChargeAttempt",
    "ChargeAttemptInvoice",
    "Clinic",
    "CollectedBy",
    "DeskNotice",
    "Discipline",
    "HouseholdMember",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "LineKind",
    "Location",
    "Membership",
    "Money",
    "NoticeChannel",
    "NoticeKind",
    "NoticeSettings",
    "NoticeStatus",
    "PackagePlan",
    "PackagePlanItem",
    "PackageRedemption",
    "PackageSale",
    "PackageSaleItem",
    "Patient",
    "PatientSearchPrefix",
    "PatientSearchToken",
    "Payment",
    "PaymentAccount",
    "PaymentMethod",
    "Product",
    "Refund",
    "RefundAttempt",
    "Role",
    "Staff",
    "StaffNotification",
    "StripeCustomer",
    "SyncChangeLog",
    "SyncConflict",
    "SyncMeta",
    "SyncOutbox",
    "SyncPushReceipt",
    "SyncState",
    "SyncWorkstation",
    "TreatmentType",
    "format_money",
    "new_id",
    "parse_money",
]
