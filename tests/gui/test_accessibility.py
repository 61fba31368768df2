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
        dialog = SignInDialog(demo_services, tasks, "DESK1", demo=demo)
        qtbot.addWidget(dialog)
        dialog.show()
        assert_all_named(dialog)
    qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)


def test_first_run_dialog_both_pages(qtbot: QtBot, sqlite_db: Database, tasks: TaskRunner) -> None:
    dialog = FirstRunDialog(sqlite_db, tasks, Config())
    qtbot.addWidget(dialog)
    dialog.show()
    assert_all_named(dialog)
    dialog.show_setup()
    assert_all_named(dialog)
    assert find(dialog, QPushButton, "Create clinic").isVisible()


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
