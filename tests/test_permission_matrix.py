"""Every service action declares its permission, and the permission matrix: what each role
(with and without the Billing flag) may do, written out so a change to it is a visible diff."""

from __future__ import annotations

import inspect
import logging
import uuid

import pytest

from desk_app.models.enums import Role
from desk_app.services.actor import Actor
from desk_app.services.errors import PermissionDenied
from desk_app.services.permissions import Permission, permissions_of, require
from tests.service_catalogue import service_classes

P = Permission
FA, AB, B, FD, PR = (Role.FULL_ACCESS, Role.ADMIN_BILLING, Role.BILLING, Role.FRONT_DESK,
                     Role.PRACTITIONER)
# (role, Billing flag) columns; "x": allowed.
COLUMNS = [(FA, False), (AB, False), (B, False), (FD, False), (FD, True), (PR, False), (PR, True)]
MATRIX = {
    #                         FA   AB   B    FD   FD+b PR   PR+b
    P.VIEW_PATIENTS:         "x    x    x    x    x    x    x",
    P.EDIT_PATIENTS:         "x    x    x    x    x    .    .",
    P.BOOK_APPOINTMENTS:     "x    x    x    x    x    x    x",
    P.CREATE_INVOICE:        "x    x    x    x    x    .    x",
    P.TAKE_PAYMENT:          "x    x    x    x    x    .    x",
    P.APPLY_PAYMENT:         "x    x    x    x    x    .    x",
    P.UNAPPLY_PAYMENT:       "x    x    x    .    x    .    x",
    P.DELETE_INVOICE:        "x    x    x    .    x    .    x",
    P.REFUND:                "x    x    x    .    x    .    x",
    P.EMAIL_DOCUMENTS:       "x    x    x    x    x    .    .",
    P.MANAGE_CARDS:          "x    x    x    .    x    .    x",
    P.SEND_PAYMENT_LINKS:    "x    x    x    .    x    .    x",
    P.MANAGE_CLINIC:         "x    .    .    .    .    .    .",
    P.MANAGE_STAFF:          "x    .    .    .    .    .    .",
    P.VIEW_AUDIT:            "x    x    .    .    .    .    .",
    P.MANAGE_PACKAGES:       "x    x    .    .    .    .    .",
    P.VIEW_REPORTS:          "x    x    .    .    .    .    .",
}

#: Public service methods with no permission check of their own, and why.
NO_CHECK = {
    "auth.sign_in": "nobody is signed in yet",
    "auth.unlock": "checks the signed-in member's own password",
    "ledger.currency": "a helper inside other calls' transactions",
    "clinic.info": "any signed-in member reads the clinic's name and settings",
    "clinic.logo": "any signed-in member's documents print the logo",
    "clinic.only_clinic_name": "the sign-in window shows it before anyone signs in",
    "mail.deliver": "sends what a checked call prepared",
    "mail.message": "builds what a checked call asked for",
    "payment_accounts.credentials": "used inside checked card calls",
    "payment_accounts.gateway_for": "used inside checked card calls",
    "cards.ensure_customer": "used inside checked card calls",
    "card_payments.reconcile_unknown": "start-up: settles what was already authorised",
    "card_payments.refund_card_payment": "delegates to card_refunds, which requires REFUND",
    "link_payments.check_open_links": "records what patients paid; any desk may poll",
    "notifications.list_for": "a member's own notifications",
    "notifications.mark_all_read": "a member's own notifications",
    "notifications.unread_count": "a member's own notifications",
    "packages.auto_redeem_in": "runs inside the transaction of a checked call (auto_redeem, "
                               "appointment_copies.book and .plan)",
    "package_reports.sales_csv": "formats rows a checked call returned",
    "package_reports.usage_csv": "formats rows a checked call returned",
    "sync.bootstrapped": "the workstation's own sync state",
    "sync.client": "the workstation's own sync state",
    "sync.dispose": "the workstation's own sync state",
    "sync.run_once": "the workstation's own sync, for every desk",
    "sync.status": "the workstation's own sync state",
}


def _public_methods() -> dict[str, str]:
    """'service.method' -> its source, for every public method of every service."""
    found = {}
    for name, kind in service_classes().items():
        for method, function in inspect.getmembers(kind, inspect.isfunction):
            if not method.startswith("_") and function.__qualname__.startswith(kind.__name__):
                found[f"{name}.{method}"] = inspect.getsource(function)
    return found


def test_every_service_action_checks_a_permission_or_says_why_not() -> None:
    methods = _public_methods()
    unchecked = {m for m, source in methods.items() if "require(" not in source}
    assert unchecked - NO_CHECK.keys() == set(), "add a require(...) or a reason to NO_CHECK"
    assert NO_CHECK.keys() - methods.keys() == set(), "NO_CHECK names a method that is gone"
    assert len(methods) > 100  # every service was found


@pytest.mark.parametrize("permission", list(Permission))
def test_the_permission_matrix(permission: Permission) -> None:
    expected = MATRIX[permission].split()
    granted = ["x" if permission in permissions_of(role, flag) else "." for role, flag in
               COLUMNS]
    assert granted == expected


def test_every_permission_is_in_the_matrix() -> None:
    assert set(MATRIX) == set(Permission)


@pytest.mark.parametrize(("role", "flag"), COLUMNS)
def test_a_denied_action_names_what_is_missing_and_is_logged(
    role: Role, flag: bool, caplog: pytest.LogCaptureFixture
) -> None:
    actor = Actor(uuid.uuid4(), uuid.uuid4(), "Robin Clarke", role, flag, "DESK2")
    for permission in Permission:
        if permission in permissions_of(role, flag):
            require(actor, permission)
            continue
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="desk_app.services.permissions"), \
                pytest.raises(PermissionDenied) as denied:
            require(actor, permission)
        assert f"does not have permission to {permission.value}" in denied.value.message
        assert role.label in denied.value.message
        assert any(permission.value in r.getMessage() for r in caplog.records)


def test_the_walk_finds_the_services_built_on_first_use() -> None:
    assert service_classes().keys() >= {"auth", "staff", "audit_trail", "packages"}
