"""Clinic ▸ Staff: a Full Access user adds a member, changes a role, deactivates, resets a
password; the screen shows each change and refusals appear under the field."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from desk_app.models.enums import Role
from desk_app.services.staff_admin import StaffRow
from desk_app.views.main_window import MainWindow
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.staff.password_dialog import PasswordResetDialog
from desk_app.views.staff.staff_dialog import StaffDialog
from desk_app.views.staff.staff_form import StaffForm
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import (
    click,
    named,
    open_with,
    select_row,
    type_into,
    wait_closed,
)
from tests.gui.test_accessibility import assert_all_named


def staff_dialog(qtbot: QtBot, ctx: ViewContext) -> StaffDialog:
    dialog = StaffDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.resize(980, 520)
    dialog.show()
    wait_idle(qtbot, ctx)
    return dialog


def row_named(dialog: StaffDialog, username: str) -> StaffRow:
    return next(r for r in dialog.model.rows if r.username == username)


def test_the_staff_menu_is_offered_to_full_access_only(
    qtbot: QtBot, owner_ctx: ViewContext, view_ctx: ViewContext
) -> None:
    owner_window = MainWindow(owner_ctx)
    desk_window = MainWindow(view_ctx)
    for window in (owner_window, desk_window):
        qtbot.addWidget(window)
    assert owner_window.staff_action is not None
    assert desk_window.staff_action is None
    wait_idle(qtbot, owner_ctx)


def test_adding_a_member_shows_them_and_refusals_sit_under_the_field(
    qtbot: QtBot, owner_ctx: ViewContext
) -> None:
    dialog = staff_dialog(qtbot, owner_ctx)
    form = open_with(qtbot, dialog, "Add staff member…", StaffForm)
    assert_all_named(form)
    type_into(qtbot, form, "First name", "Jordan")
    # QTest types ASCII only; an accent arrives as pasted text does.
    named(form, QLineEdit, "Last name").setText("Béliveau")
    type_into(qtbot, form, "Username", "frontdesk")  # taken
    type_into(qtbot, form, "First password", "river-stone-42")
    click(qtbot, form, "Add staff member")
    wait_idle(qtbot, owner_ctx)
    assert "taken" in form.form.error_text("username")

    type_into(qtbot, form, "Username", "jbeliveau")
    named(form, QComboBox, "Role").setCurrentText(Role.ADMIN_BILLING.label)
    billing = named(form, QCheckBox, "Billing permission")
    assert billing.isChecked() and not billing.isEnabled()  # included in that role
    click(qtbot, form, "Add staff member")
    wait_closed(qtbot, owner_ctx, form)
    wait_idle(qtbot, owner_ctx)
    added = row_named(dialog, "jbeliveau")
    assert (added.role, added.billing_permission) == (Role.ADMIN_BILLING, True)
    assert "Jordan Béliveau added." in dialog.banner.text()


def test_changing_a_role_deactivating_and_resetting_a_password(
    qtbot: QtBot, owner_ctx: ViewContext
) -> None:
    dialog = staff_dialog(qtbot, owner_ctx)
    select_row(dialog.table, row_named(dialog, "frontdesk2").id)
    form = open_with(qtbot, dialog, "Edit…", StaffForm)
    named(form, QComboBox, "Role").setCurrentText(Role.BILLING.label)
    click(qtbot, form, "Save")
    wait_closed(qtbot, owner_ctx, form)
    wait_idle(qtbot, owner_ctx)
    assert row_named(dialog, "frontdesk2").role == Role.BILLING

    confirm = open_with(qtbot, dialog, "Deactivate", ConfirmDialog)
    click(qtbot, confirm, "Deactivate")
    wait_closed(qtbot, owner_ctx, confirm)
    wait_idle(qtbot, owner_ctx)
    assert not row_named(dialog, "frontdesk2").active
    assert named(dialog, type(dialog.active_button), "Reactivate").isEnabled()

    reset = open_with(qtbot, dialog, "Reset password…", PasswordResetDialog)
    assert_all_named(reset)
    type_into(qtbot, reset, "New password", "short")
    click(qtbot, reset, "Set password")
    wait_idle(qtbot, owner_ctx)
    assert reset.isVisible()  # refused: at least 8 characters
    type_into(qtbot, reset, "New password", "river-stone-42")
    click(qtbot, reset, "Set password")
    wait_closed(qtbot, owner_ctx, reset)
    assert "password was changed" in dialog.banner.text()
    assert_all_named(dialog)
