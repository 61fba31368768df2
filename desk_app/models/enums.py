"""Closed sets of values stored as short strings."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


class Role(StrEnum):
    FULL_ACCESS = "full_access"
    ADMIN_BILLING = "admin_billing"
    BILLING = "billing"
    FRONT_DESK = "front_desk"
    PRACTITIONER = "practitioner"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.FULL_ACCESS: "Full Access",
    Role.ADMIN_BILLING: "Administrative/All Billing",
    Role.BILLING: "Billing",
    Role.FRONT_DESK: "Front Desk",
    Role.PRACTITIONER: "Practitioner",
}


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "booked": "Booked",
            "arrived": "Arrived",
            "no_show": "No-show",
            "cancelled": "Cancelled",
        }[self.value]


class AppointmentKind(StrEnum):
    """An individual visit; a group (one invoice, to the primary client); a class (each
    participant invoiced for their own place)."""

    INDIVIDUAL = "individual"
    GROUP = "group"
    CLASS = "class"

    @property
    def label(self) -> str:
        return {"individual": "Individual", "group": "Group", "class": "Class"}[self.value]


class InvoiceStatus(StrEnum):
    OPEN = "open"
    DELETED = "deleted"


class LineKind(StrEnum):
    APPOINTMENT = "appointment"
    PRODUCT = "product"
    PACKAGE = "package"
    OTHER = "other"


class PaymentMethod(StrEnum):
    CARD = "card"
    CASH = "cash"
    CHEQUE = "cheque"
    E_TRANSFER = "e_transfer"
    DEBIT = "debit"
    ACCOUNT_CREDIT = "account_credit"
    GIFT_CARD = "gift_card"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _METHOD_LABELS[self]


_METHOD_LABELS = {
    PaymentMethod.CARD: "Card",
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.E_TRANSFER: "E-transfer",
    PaymentMethod.DEBIT: "Debit",
    PaymentMethod.ACCOUNT_CREDIT: "Account credit",
    PaymentMethod.GIFT_CARD: "Gift card",
    PaymentMethod.OTHER: "Other",
}


class CollectedBy(StrEnum):
    STAFF = "staff"
    PATIENT = "patient"


class AccountMode(StrEnum):
    """A Stripe payment account's mode, read from its key prefix (sk_test_ / sk_live_)."""

    TEST = "test"
    LIVE = "live"

    @property
    def label(self) -> str:
        return "Test mode (no real money)" if self is AccountMode.TEST else "Live (real money)"


class AttemptStatus(StrEnum):
    """Where a card charge or refund stands (docs/STRIPE.md describes the states)."""

    PENDING = "pending"  # committed, the Stripe call is about to be or being made
    UNKNOWN = "unknown"  # the call's outcome is not known: reconcile before anything else
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"  # the bank wants the patient to authenticate

    @property
    def unsettled(self) -> bool:
        return self in (AttemptStatus.PENDING, AttemptStatus.UNKNOWN)


class AttemptPurpose(StrEnum):
    CHARGE = "charge"  # invoices and/or an amount that becomes credit
    TOP_UP = "top_up"  # account credit into the primary account


class PlanKind(StrEnum):
    PACKAGE = "package"
    MEMBERSHIP = "membership"

    @property
    def label(self) -> str:
        return "Package" if self is PlanKind.PACKAGE else "Membership"


class ExpiryUnit(StrEnum):
    """How long a package lasts after its sale."""

    NONE = "none"
    DAYS = "days"
    MONTHS = "months"


class Recurrence(StrEnum):
    """How often a membership invoices a new period."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"

    @property
    def label(self) -> str:
        return {"weekly": "Weekly", "monthly": "Monthly", "yearly": "Yearly"}[self.value]


def str_enum(enum_cls: type[StrEnum]) -> Enum:
    """Store a StrEnum by its value as VARCHAR on every backend (no native enum types)."""

    def values(cls: Any) -> list[str]:
        return [member.value for member in cls]

    return Enum(
        enum_cls, native_enum=False, length=32, values_callable=values, validate_strings=True
    )
