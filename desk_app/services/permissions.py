"""What each role may do. Checked in every service call, not only by hiding buttons."""

from __future__ import annotations

import logging
from enum import StrEnum

from desk_app.models.enums import Role
from desk_app.services.actor import Actor
from desk_app.services.errors import PermissionDenied

log = logging.getLogger(__name__)


class Permission(StrEnum):
    VIEW_PATIENTS = "view patients"
    EDIT_PATIENTS = "edit patients"
    BOOK_APPOINTMENTS = "book appointments"
    CREATE_INVOICE = "create invoices"
    TAKE_PAYMENT = "take payments"
    APPLY_PAYMENT = "apply payments and credit"
    UNAPPLY_PAYMENT = "unapply payments"
    DELETE_INVOICE = "delete invoices"
    REFUND = "refund payments"
    EMAIL_DOCUMENTS = "email receipts and statements"
    MANAGE_CARDS = "remove cards on file"
    SEND_PAYMENT_LINKS = "send 1-time payment links"
    MANAGE_CLINIC = "manage clinic settings"
    MANAGE_STAFF = "manage staff"
    VIEW_AUDIT = "view the audit trail"
    # Administrative/All Billing and higher (every permission but clinic and staff settings).
    MANAGE_PACKAGES = "set up packages and memberships"
    VIEW_REPORTS = "view reports"


_FRONT_DESK = {
    Permission.VIEW_PATIENTS,
    Permission.EDIT_PATIENTS,
    Permission.BOOK_APPOINTMENTS,
    Permission.CREATE_INVOICE,
    Permission.TAKE_PAYMENT,
    Permission.APPLY_PAYMENT,
    Permission.EMAIL_DOCUMENTS,
}
# What the Billing permission adds to any role.
_BILLING_EXTRA = {
    Permission.CREATE_INVOICE,
    Permission.TAKE_PAYMENT,
    Permission.APPLY_PAYMENT,
    Permission.UNAPPLY_PAYMENT,
    Permission.DELETE_INVOICE,
    Permission.REFUND,
    Permission.MANAGE_CARDS,
    Permission.SEND_PAYMENT_LINKS,
}
_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FULL_ACCESS: frozenset(Permission),
    Role.ADMIN_BILLING: frozenset(Permission) - {Permission.MANAGE_CLINIC, Permission.MANAGE_STAFF},
    Role.BILLING: frozenset(_FRONT_DESK | _BILLING_EXTRA),
    Role.FRONT_DESK: frozenset(_FRONT_DESK),
    Role.PRACTITIONER: frozenset({Permission.VIEW_PATIENTS, Permission.BOOK_APPOINTMENTS}),
}


def permissions_of(role: Role, billing_permission: bool) -> frozenset[Permission]:
    granted = _ROLE_PERMISSIONS[role]
    if billing_permission:
        granted = granted | _BILLING_EXTRA
    return granted


def has_permission(actor: Actor, permission: Permission) -> bool:
    return permission in permissions_of(actor.role, actor.billing_permission)


def require(actor: Actor, permission: Permission) -> None:
    if not has_permission(actor, permission):
        log.warning("denied: %s (%s) lacks %r", actor.staff_id, actor.role.value, permission.value)
        raise PermissionDenied(
            f"{actor.name} ({actor.role.label}) does not have permission to {permission.value}. "
            "Ask a Full Access user to grant it, or have someone who has it do this."
        )
