"""Clinic ▸ Audit trail: filter, see before/after, page, export to the file chosen."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from desk_app.models.enums import Role
from desk_app.services.clock import FixedClock
from desk_app.services.patient_input import PatientInput
from desk_app.services.staff_admin import StaffInput
from desk_app.views.audit_trail_dialog import AuditTrailDialog
from desk_app.views.main_window import MainWindow
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import click, named, type_into
from tests.gui.test_accessibility import assert_all_named


def trail_dialog(qtbot: QtBot, ctx: ViewContext) -> AuditTrailDialog:
    dialog = AuditTrailDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.resize(1180, 680)
    dialog.show()
    wait_idle(qtbot, ctx)
    return dialog


def test_a_permission_change_is_found_with_its_before_and_after(
    qtbot: QtBot, owner_ctx: ViewContext
) -> None:
    staff = owner_ctx.services.staff
    member = next(r for r in staff.list_staff(owner_ctx.actor) if r.username == "frontdesk2")
    staff.update(
        owner_ctx.actor,
        member.id,
        StaffInput(member.first_name, member.last_name, member.username, Role.BILLING,
                   email=member.email),
        member.version,
    )
    dialog = trail_dialog(qtbot, owner_ctx)
    assert_all_named(dialog)
    named(dialog, QComboBox, "Kind").setCurrentText("Staff and permissions")
    click(qtbot, dialog, "Show")
    wait_idle(qtbot, owner_ctx)
    [row] = dialog.model.rows
    assert row.action == "staff.permissions_changed" and row.who == "Alex Morgan"
    shown = dialog.details.toPlainText()
    assert 'Before: {"role": "front_desk"}' in shown and 'After: {"role": "billing"}' in shown

    type_into(qtbot, dialog, "Search", "nothing like this")
    click(qtbot, dialog, "Show")
    wait_idle(qtbot, owner_ctx)
    assert dialog.model.rows == [] and "No events match" in dialog.page_label.text()


def test_export_writes_the_chosen_file_and_is_audited(
    qtbot: QtBot, owner_ctx: ViewContext, tmp_path: Path
) -> None:
    owner_ctx.services.patients.create(owner_ctx.actor, PatientInput("Zoë", "Ødegård"))
    dialog = trail_dialog(qtbot, owner_ctx)
    target = tmp_path / "trail.csv"
    clock = owner_ctx.services.db.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=1))  # the export comes after the patient was added
    dialog.export_to(target)
    wait_idle(qtbot, owner_ctx)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0][0] == "When" and len(rows) > 1
    assert f"Saved to {target}." in dialog.banner.text()
    click(qtbot, dialog, "Show")
    wait_idle(qtbot, owner_ctx)
    assert dialog.model.rows[0].action == "audit.exported"


def test_the_audit_trail_is_offered_to_admins_not_the_front_desk(
    qtbot: QtBot, owner_ctx: ViewContext, view_ctx: ViewContext
) -> None:
    owner_window, desk_window = MainWindow(owner_ctx), MainWindow(view_ctx)
    for window in (owner_window, desk_window):
        qtbot.addWidget(window)
    assert owner_window.audit_action is not None
    assert desk_window.audit_action is None
    wait_idle(qtbot, owner_ctx)
