"""The shared desk locks after the clinic's idle time: nothing shows behind the lock screen,
nothing typed is lost, the same person unlocks with their password, others switch user."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from desk_app.services.demo_credentials import DEMO_PASSWORD
from desk_app.views.main_window import MainWindow
from desk_app.views.new_patient_dialog import NewPatientDialog
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import click, named, type_into
from tests.gui.test_accessibility import assert_all_named


def test_idle_time_locks_and_the_password_brings_everything_back(
    qtbot: QtBot, window: MainWindow, view_ctx: ViewContext
) -> None:
    assert window.idle.interval_ms == view_ctx.clinic.idle_lock_minutes * 60_000
    qtbot.keyClicks(window.search.box, "madd")
    window.new_patient()
    dialog = next(d for d in window.findChildren(NewPatientDialog) if d.isVisible())
    type_into(qtbot, dialog, "Legal first name", "Half-typed")

    window.idle.set_interval(50)  # as if the clinic's idle time passed
    qtbot.waitUntil(lambda: window.locked, timeout=5_000)
    assert not dialog.isVisible()
    assert not window.centralWidget().isEnabled() and not window.menuBar().isEnabled()
    assert window.lock_screen.geometry() == window.rect()
    assert_all_named(window.lock_screen)

    type_into(qtbot, window.lock_screen, "Password", "not-the-password")
    click(qtbot, window.lock_screen, "Unlock")
    wait_idle(qtbot, view_ctx)
    assert window.locked and "not right" in window.lock_screen.error_text

    type_into(qtbot, window.lock_screen, "Password", DEMO_PASSWORD)
    click(qtbot, window.lock_screen, "Unlock")
    wait_idle(qtbot, view_ctx)
    assert not window.locked
    assert window.centralWidget().isEnabled()
    assert dialog.isVisible()
    assert named(dialog, QLineEdit, "Legal first name").text() == "Half-typed"
    assert window.search.box.text() == "madd"
    dialog.reject()


def test_activity_keeps_the_desk_unlocked(qtbot: QtBot, window: MainWindow) -> None:
    window.idle.set_interval(400)
    for _ in range(6):
        qtbot.wait(100)
        qtbot.keyClick(window.search.box, "a")
    assert not window.locked
    qtbot.waitUntil(lambda: window.locked, timeout=5_000)


def test_switch_user_signs_out_and_closes_what_was_open(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.new_patient()
    dialog = next(d for d in window.findChildren(NewPatientDialog) if d.isVisible())
    window.lock()
    with qtbot.waitSignal(window.signed_out, timeout=5_000):
        click(qtbot, window.lock_screen, "Switch user…")
    assert not dialog.isVisible()
