"""Every control a receptionist can reach has an accessible name equal to its visible label."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desk_app.config import Config
from desk_app.services.db import Database
from desk_app.services.errors import Conflict
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.clinic_settings_dialog import ClinicSettingsDialog
from desk_app.views.error_dialog import ErrorDialog, dialog_for
from desk_app.views.first_run import FirstRunDialog
from desk_app.views.main_window import MainWindow
from desk_app.views.new_patient_dialog import NewPatientDialog
from desk_app.views.sign_in import SignInDialog
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers import find

pytestmark = pytest.mark.gui


def describe(widgets: list[QWidget]) -> list[str]:
    return [
        f"{type(w).__name__} text={getattr(w, 'text', lambda: '')()!r} name={w.accessibleName()!r}"
        for w in widgets
    ]


def assert_all_named(root: QWidget) -> None:
    assert describe(unnamed_controls(root)) == []


def test_main_window_when_empty(window: MainWindow) -> None:
    assert_all_named(window)
    assert find(window, QLineEdit, "Search patients").placeholderText() == (
        "Search patients by name, phone, email or birth date"
    )


def test_main_window_with_results_and_a_patient_open(
    qtbot: QtBot, window: MainWindow, view_ctx: ViewContext
) -> None:
    qtbot.keyClicks(find(window, QLineEdit, "Search patients"), "nguy")
    qtbot.waitUntil(
        lambda: window.search.settled and window.search.model.rowCount() > 0, timeout=10_000
    )
    with qtbot.waitSignal(window.profile_shown, timeout=10_000):
        window.search.open_top_match()
    wait_idle(qtbot, view_ctx)
    assert_all_named(window)


def test_sign_in_dialog(qtbot: QtBot, demo_services: Services, tasks: TaskRunner) -> None:
    for demo in (False, True):
        dialog = SignInDialog(lambda: demo_services, tasks, "DESK1", demo=demo)
        qtbot.addWidget(dialog)
        dialog.show()
        assert_all_named(dialog)
    qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)


def test_first_run_dialog_every_page(
    qtbot: QtBot, sqlite_db: Database, tasks: TaskRunner
) -> None:
    dialog = FirstRunDialog(Services.build(sqlite_db), tasks, Config())
    qtbot.addWidget(dialog)
    dialog.show()
    for page in dialog.pages:
        dialog.show_page(page)
        assert_all_named(dialog)
    dialog.show_page(dialog.account_page)
    assert find(dialog, QPushButton, "Create clinic").isVisible()


def test_about_box(qtbot: QtBot, window: MainWindow) -> None:
    window.about()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "aboutBox") is not None)
    box = window.findChild(QMessageBox, "aboutBox")
    assert isinstance(box, QMessageBox)
    assert_all_named(box)
    box.close()


def test_new_patient_dialog_with_an_error_showing(qtbot: QtBot, view_ctx: ViewContext) -> None:
    dialog = NewPatientDialog(view_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert_all_named(dialog)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error_text("legal_first_name") != "", timeout=10_000)
    assert_all_named(dialog)
    wait_idle(qtbot, view_ctx)


def test_clinic_settings_dialog(qtbot: QtBot, owner_ctx: ViewContext) -> None:
    dialog = ClinicSettingsDialog(owner_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.ready), timeout=10_000)
    assert_all_named(dialog)


def test_error_dialogs(qtbot: QtBot) -> None:
    for error in (Conflict("Unapply the payment first."), ValueError("bad")):
        dialog = dialog_for(None, error)
        qtbot.addWidget(dialog)
        dialog.show()
        assert isinstance(dialog, QMessageBox | ErrorDialog)
        assert_all_named(dialog)


def test_billing_notice_windows(qtbot: QtBot) -> None:
    """The Text Reminder, Email Reminder and credit top-up windows (billing notices)."""
    from desk_app.models.billing_notices import NoticeChannel, NoticeKind
    from desk_app.views.profile.reminder_dialog import ReminderDialog

    for channel, kind in ((NoticeChannel.TEXT, NoticeKind.BALANCE),
                          (NoticeChannel.EMAIL, NoticeKind.BALANCE),
                          (NoticeChannel.EMAIL, NoticeKind.TOP_UP)):
        dialog = ReminderDialog(channel, kind, "maddy@example.com", "Hello, Maddy")
        qtbot.addWidget(dialog)
        dialog.show()
        assert_all_named(dialog)
        dialog.close()


def test_main_window_notification_bell_is_named(window: MainWindow) -> None:
    from PySide6.QtWidgets import QToolButton

    bell = find(window, QToolButton, window.bell.text())
    assert bell.accessibleName().endswith("Notifications") or "Notifications (" in bell.text()
    assert_all_named(window)


def test_package_windows_and_dialogs(qtbot: QtBot, owner_ctx: ViewContext) -> None:
    """Packages & Memberships settings (a membership's form too), the reports, My day, and
    the profile's Packages tab with each of its dialogs."""
    from datetime import UTC, date, datetime

    from desk_app.models.enums import PlanKind, Recurrence
    from desk_app.services.package_plans import EligibleItem, PlanInput
    from desk_app.services.package_terms import SaleStatus, Usage
    from desk_app.services.packages import PackageOption, SaleRow
    from desk_app.views.packages.my_day_dialog import MyDayDialog
    from desk_app.views.packages.plan_form import PlanDialog
    from desk_app.views.packages.plans_dialog import PlansDialog
    from desk_app.views.packages.reports_dialog import PackageReportsDialog
    from desk_app.views.profile.package_dialogs import (
        ExpiryDialog,
        PackageRefundDialog,
        UsePackageDialog,
    )

    services, actor = owner_ctx.services, owner_ctx.actor
    options = services.appointments.booking_options(actor)
    plan_id = services.package_plans.create(actor, PlanInput(
        "Club", 5000, [EligibleItem(options.treatments[0].id)], uses=None,
        kind=PlanKind.MEMBERSHIP, recurrence=Recurrence.MONTHLY))
    plan = services.package_plans.plan(actor, plan_id)
    sale = SaleRow(plan_id, actor.staff_id, "Maddy", "Club", PlanKind.MEMBERSHIP, plan_id,
                   "DESK1-00001", datetime(2026, 11, 21, tzinfo=UTC), 5000, 5000,
                   Usage(1, None, date(2026, 12, 20)),
                   SaleStatus.ACTIVE, False, 0)
    dialogs = [
        PlansDialog(owner_ctx), PackageReportsDialog(owner_ctx), MyDayDialog(owner_ctx),
        PlanDialog(PlanKind.MEMBERSHIP, options.treatments, "CAD", plan),
        PackageRefundDialog(sale, 0, 5000, "CAD"), ExpiryDialog(sale),
        UsePackageDialog("Massage on Tue", [PackageOption(plan_id, "Club", "1 used", "", False),
                                            PackageOption(plan_id, "Old", "", "expired", False)]),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        wait_idle(qtbot, owner_ctx)
        assert_all_named(dialog)


def test_sync_dialogs(qtbot: QtBot, owner_ctx: ViewContext, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from desk_app.views.bootstrap_dialog import BootstrapDialog
    from desk_app.views.central_settings_dialog import CentralSettingsDialog
    from desk_app.views.conflict_log_dialog import ConflictLogDialog

    conflicts = ConflictLogDialog(owner_ctx)
    qtbot.addWidget(conflicts)
    with qtbot.waitSignal(conflicts.loaded, timeout=10_000):
        conflicts.show()
    assert_all_named(conflicts)
    settings = CentralSettingsDialog(owner_ctx, config_path=tmp_path / "config.toml")
    qtbot.addWidget(settings)
    settings.show()
    assert_all_named(settings)
    settings.submit()  # no address typed: the message goes under the field
    assert settings.form.error_text("url") != ""
    assert_all_named(settings)
    bootstrap = BootstrapDialog(owner_ctx.services.sync)
    qtbot.addWidget(bootstrap)
    bootstrap.show()
    assert_all_named(bootstrap)
    bootstrap.runner.shutdown()
    wait_idle(qtbot, owner_ctx)


def test_main_window_sync_indicator_standalone(window: MainWindow) -> None:
    assert window.sync_status.label.text() == "Standalone"
    assert_all_named(window)
