"""The desktop shell as a receptionist uses it: sign in, find a patient, open, add, settings."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMessageLogContext, Qt, QtMsgType
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLineEdit,
    QMessageBox,
    QPushButton,
)
from pytestqt.qtbot import QtBot

from desk_app import logs
from desk_app.config import Config, load_config, save_config
from desk_app.services.actor import Actor
from desk_app.services.db import head_revision
from desk_app.services.errors import Conflict
from desk_app.services.registry import LAZY_SERVICES, Services
from desk_app.views.about import about_text
from desk_app.views.error_dialog import UNEXPECTED_TITLE, ErrorDialog, ErrorReporter
from desk_app.views.first_run import FirstRunDialog
from desk_app.views.main_window import MainWindow
from desk_app.views.patient_search import IDLE_HINT
from desk_app.views.qt_logging import qt_message_handler
from desk_app.views.sign_in import SignInDialog
from desk_app.views.startup import Launcher
from desk_app.views.tasks import TaskRunner
from desk_app.views.theme import apply_theme
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers import find

pytestmark = pytest.mark.gui

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MADDY = "Maddy Ødegård-Nguyễn"


def search_for(qtbot: QtBot, window: MainWindow, text: str) -> None:
    box = find(window, QLineEdit, "Search patients")
    box.clear()
    qtbot.keyClicks(box, text)
    qtbot.waitUntil(lambda: bool(window.search.settled), timeout=10_000)


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# -- signing in ------------------------------------------------------------------------------


def test_demo_sign_in_is_prefilled_and_succeeds(
    qtbot: QtBot, demo_services: Services, tasks: TaskRunner
) -> None:
    dialog = SignInDialog(lambda: demo_services, tasks, "DESK1", demo=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "frontdesk / demo-password" in dialog.hint.text()
    assert dialog.hint.isVisible()
    assert find(dialog, QLineEdit, "Username").text() == "frontdesk"

    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        click(qtbot, find(dialog, QPushButton, "Sign in"))

    assert dialog.actor is not None
    assert dialog.actor.name == "Sam Lee"
    assert dialog.actor.workstation == "DESK1"
    qtbot.waitUntil(lambda: dialog.header.subtitle.text() == "Maple Grove Wellness")


def test_a_wrong_password_is_refused_with_a_message_in_the_dialog(
    qtbot: QtBot, demo_services: Services, tasks: TaskRunner
) -> None:
    dialog = SignInDialog(lambda: demo_services, tasks, "DESK1")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.hint.isVisible()
    qtbot.keyClicks(find(dialog, QLineEdit, "Username"), "frontdesk")
    qtbot.keyClicks(find(dialog, QLineEdit, "Password"), "not-the-password")

    click(qtbot, find(dialog, QPushButton, "Sign in"))
    qtbot.waitUntil(lambda: dialog.error_text != "", timeout=10_000)

    assert dialog.error_text == "That username and password do not match. Try again."
    assert dialog.actor is None
    assert dialog.isVisible()
    assert find(dialog, QPushButton, "Sign in").isEnabled()


# -- finding and opening patients -----------------------------------------------------


def test_typing_part_of_a_name_finds_the_patient_with_one_search(
    qtbot: QtBot, window: MainWindow
) -> None:
    answers: list[None] = []
    window.search.results_changed.connect(lambda: answers.append(None))

    search_for(qtbot, window, "nguy")

    assert MADDY in window.search.model.names()
    assert len(answers) == 1, "typing four letters quickly should run one search, not four"
    assert window.search.status.text().endswith("patients")


def test_results_show_birth_date_and_phone(qtbot: QtBot, window: MainWindow) -> None:
    search_for(qtbot, window, "maddy nguy")
    index = window.search.model.index(0, 0)
    assert index.data() == MADDY
    detail = window.search.model.data(index, Qt.ItemDataRole.AccessibleTextRole)
    assert detail.startswith(f"{MADDY}, Born ")
    assert "416-555-" in detail


def test_enter_opens_the_profile_and_recent_patients_lists_her(
    qtbot: QtBot,
    window: MainWindow,
    maddy_id: uuid.UUID,
    demo_services: Services,
    front_desk: Actor,
) -> None:
    assert window.recent.names() == []
    search_for(qtbot, window, "maddy nguy")

    with qtbot.waitSignal(window.profile_shown, timeout=10_000) as shown:
        qtbot.keyClick(find(window, QLineEdit, "Search patients"), Qt.Key.Key_Return)

    assert shown.args == [maddy_id]
    assert window.current_patient_id == maddy_id
    assert window.right.currentWidget() is window.profile
    assert getattr(window.profile, "patient_id", None) == maddy_id
    qtbot.waitUntil(lambda: window.recent.names() == [MADDY], timeout=10_000)
    assert [p.id for p in demo_services.patients.recent(front_desk)] == [maddy_id]


def test_down_arrow_then_enter_opens_the_second_match(qtbot: QtBot, window: MainWindow) -> None:
    search_for(qtbot, window, "nguy")
    assert window.search.model.rowCount() >= 2
    box = find(window, QLineEdit, "Search patients")
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert window.search.results.currentIndex().row() == 1
    second = window.search.model.patient_id(1)

    with qtbot.waitSignal(window.profile_shown, timeout=10_000):
        qtbot.keyClick(box, Qt.Key.Key_Enter)

    assert window.current_patient_id == second


def test_enter_before_the_debounce_opens_the_top_match(
    qtbot: QtBot, window: MainWindow, maddy_id: uuid.UUID
) -> None:
    box = find(window, QLineEdit, "Search patients")
    with qtbot.waitSignal(window.profile_shown, timeout=10_000):
        qtbot.keyClicks(box, "maddy nguy")
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.current_patient_id == maddy_id


def test_results_of_a_search_the_box_has_moved_on_from_are_dropped(
    qtbot: QtBot, window: MainWindow, view_ctx: ViewContext
) -> None:
    box = find(window, QLineEdit, "Search patients")
    box.setText("nguy")
    window.search.search_now()  # in flight on the database thread...
    box.clear()  # ...when the receptionist clears the box
    wait_idle(qtbot, view_ctx)

    assert window.search.model.rowCount() == 0
    assert window.search.status.text() == IDLE_HINT

    box.setText("nguy")
    window.search.search_now()
    box.setText("maddy nguy")
    window.search.search_now()
    wait_idle(qtbot, view_ctx)
    assert window.search.model.names() == [MADDY]


def test_no_match_says_so(qtbot: QtBot, window: MainWindow) -> None:
    search_for(qtbot, window, "zzzzqx")
    assert window.search.model.rowCount() == 0
    assert window.search.status.text().startswith("No patients match “zzzzqx”")


def test_ctrl_f_puts_the_cursor_in_the_search_box(qtbot: QtBot, window: MainWindow) -> None:
    button = find(window, QPushButton, "New patient…")
    window.activateWindow()
    button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is button)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is find(window, QLineEdit, "Search patients")


def test_busy_indicator_shows_only_while_work_is_slow(
    qtbot: QtBot, window: MainWindow, view_ctx: ViewContext
) -> None:
    gate = threading.Event()
    view_ctx.tasks.db(gate.wait)
    qtbot.waitUntil(lambda: bool(window.busy_indicator_visible), timeout=5_000)
    gate.set()
    qtbot.waitUntil(lambda: not window.busy_indicator_visible, timeout=5_000)


def test_status_bar_names_who_is_signed_in_where(window: MainWindow) -> None:
    assert window.user_label.text() == "Signed in as Sam Lee (Front Desk) · Workstation DESK1"
    assert window.windowTitle() == "Front Desk — Maple Grove Wellness"


# -- adding a patient -------------------------------------------------------------------


def test_new_patient_needs_a_last_name_then_search_finds_them(
    qtbot: QtBot, window: MainWindow
) -> None:
    dialog = window.new_patient()
    find(dialog, QLineEdit, "Legal first name").setText("Wren")
    find(dialog, QLineEdit, "Date of birth").setText("1990-02-30")
    click(qtbot, find(dialog, QPushButton, "Add patient"))
    assert (
        dialog.error_text("date_of_birth") == "1990-02-30 is not a real date; check the "
        "month and day."
    )

    find(dialog, QLineEdit, "Date of birth").setText("1990-02-28")
    click(qtbot, find(dialog, QPushButton, "Add patient"))
    qtbot.waitUntil(lambda: dialog.error_text("legal_last_name") != "", timeout=10_000)
    assert dialog.error_text("legal_last_name") == "Legal last name is required."
    assert dialog.error_text("date_of_birth") == ""
    assert dialog.isVisible()

    find(dialog, QLineEdit, "Legal last name").setText("Quillfeather")
    find(dialog, QLineEdit, "Mobile phone").setText("647-555-0199")
    with qtbot.waitSignal(window.profile_shown, timeout=10_000):
        click(qtbot, find(dialog, QPushButton, "Add patient"))

    assert dialog.patient is not None
    assert window.current_patient_id == dialog.patient.id
    search_for(qtbot, window, "quillf")
    assert window.search.model.names() == ["Wren Quillfeather"]
    search_for(qtbot, window, "647-555-01")
    assert "Wren Quillfeather" in window.search.model.names()


def test_a_bad_phone_number_is_shown_under_the_phone_field(
    qtbot: QtBot, window: MainWindow
) -> None:
    dialog = window.new_patient()
    find(dialog, QLineEdit, "Legal first name").setText("Wren")
    find(dialog, QLineEdit, "Legal last name").setText("Quillfeather")
    find(dialog, QLineEdit, "Mobile phone").setText("call me")
    click(qtbot, find(dialog, QPushButton, "Add patient"))
    qtbot.waitUntil(lambda: dialog.error_text("mobile_phone") != "", timeout=10_000)
    assert "has letters in it" in dialog.error_text("mobile_phone")
    assert (
        find(dialog, QLineEdit, "Mobile phone")
        .accessibleDescription()
        .startswith("Mobile phone “call me”")
    )
    dialog.reject()


# -- clinic settings ----------------------------------------------------------------------


def test_clinic_settings_are_offered_to_full_access_only(
    qtbot: QtBot, window: MainWindow, owner_ctx: ViewContext
) -> None:
    assert window.settings_action is None
    assert "&Clinic" not in [a.text() for a in window.menuBar().actions()]
    owners = MainWindow(owner_ctx)
    qtbot.addWidget(owners)
    assert owners.settings_action is not None
    assert [a.text() for a in owners.menuBar().actions()] == [
        "&File", "&Clinic", "&Reports", "&Help"]
    # Packages & Memberships sit in the Clinic menu for Administrative/All Billing and up;
    # the front desk gets Reports ▸ My day only.
    assert owners.packages_action is not None and window.packages_action is None
    assert window.package_reports_action is None and owners.package_reports_action is not None
    wait_idle(qtbot, owner_ctx)


def test_turning_on_client_pronouns_is_saved(
    qtbot: QtBot, owner_ctx: ViewContext, demo_services: Services, owner: Actor
) -> None:
    window = MainWindow(owner_ctx)
    qtbot.addWidget(window)
    before = demo_services.clinic.info(owner).show_pronouns

    dialog = window.clinic_settings()
    qtbot.waitUntil(lambda: bool(dialog.ready), timeout=10_000)
    pronouns = find(dialog, QCheckBox, "Client Pronouns")
    assert pronouns.isChecked() == before
    pronouns.click()
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        click(qtbot, find(dialog, QPushButton, "Save"))

    assert demo_services.clinic.info(owner).show_pronouns is (not before)
    assert window.ctx.clinic.show_pronouns is (not before)
    again = window.clinic_settings()
    qtbot.waitUntil(lambda: bool(again.ready), timeout=10_000)
    assert find(again, QCheckBox, "Client Pronouns").isChecked() is (not before)
    again.reject()
    wait_idle(qtbot, owner_ctx)


def test_an_empty_clinic_name_is_refused_inline(qtbot: QtBot, owner_ctx: ViewContext) -> None:
    window = MainWindow(owner_ctx)
    qtbot.addWidget(window)
    dialog = window.clinic_settings()
    qtbot.waitUntil(lambda: bool(dialog.ready), timeout=10_000)
    find(dialog, QLineEdit, "Clinic name").clear()
    click(qtbot, find(dialog, QPushButton, "Save"))
    qtbot.waitUntil(lambda: dialog.form.error_text("clinic name") != "", timeout=10_000)
    assert dialog.form.error_text("clinic name") == "Clinic name is required."
    assert dialog.isVisible()
    dialog.reject()
    wait_idle(qtbot, owner_ctx)


# -- errors -----------------------------------------------------------------------------------


def test_a_service_refusal_is_shown_in_a_warning_box(qtbot: QtBot, tasks: TaskRunner) -> None:
    reporter = ErrorReporter()
    tasks.default_failure = reporter.task_failed
    message = "Unapply the payment first, then delete the invoice."

    def refuse() -> None:
        raise Conflict(message)

    tasks.db(refuse)
    qtbot.waitUntil(lambda: bool(reporter.open_dialogs), timeout=10_000)
    [box] = reporter.open_dialogs
    assert isinstance(box, QMessageBox)
    assert box.text() == message
    assert box.icon() == QMessageBox.Icon.Warning
    reporter.close_all()
    qtbot.waitUntil(lambda: not reporter.open_dialogs)


def test_an_unexpected_error_shows_details_and_the_log_file(
    qtbot: QtBot, tasks: TaskRunner, desk_home: Path
) -> None:
    reporter = ErrorReporter()
    tasks.default_failure = reporter.task_failed

    def broken() -> None:
        raise ZeroDivisionError("division by zero")

    tasks.db(broken)
    qtbot.waitUntil(lambda: bool(reporter.open_dialogs), timeout=10_000)
    [dialog] = reporter.open_dialogs
    assert isinstance(dialog, ErrorDialog)
    assert dialog.windowTitle() == UNEXPECTED_TITLE
    assert "ZeroDivisionError: division by zero" in dialog.message.text()
    assert "Traceback" in dialog.details.toPlainText()
    assert str(desk_home / "logs" / "front-desk.log") in dialog.log_label.text()
    reporter.close_all()


def test_a_crash_in_a_worker_thread_is_shown_on_the_ui_thread(qtbot: QtBot) -> None:
    reporter = ErrorReporter()
    logs.install_crash_handlers(reporter.show_error)
    try:

        def crash() -> None:
            raise RuntimeError("the printer caught fire")

        worker = threading.Thread(target=crash, name="printing")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(reporter.open_dialogs), timeout=10_000)
    finally:
        logs.uninstall_crash_handlers()
    [dialog] = reporter.open_dialogs
    assert isinstance(dialog, ErrorDialog)
    assert dialog.windowTitle() == logs.CRASH_TITLE
    assert "RuntimeError: the printer caught fire" in dialog.message.text()
    app = QApplication.instance()
    assert app is not None and dialog.thread() is app.thread()
    reporter.close_all()


# -- first run and start-up ----------------------------------------------------------------


def test_a_fresh_workstation_offers_the_demo_and_signs_in_to_it(
    qtbot: QtBot, tasks: TaskRunner
) -> None:
    launcher = Launcher(tasks, demo=False, profile_factory=None)
    finished: list[int] = []
    settled: list[bool] = []
    launcher.finished.connect(finished.append)
    launcher.settled.connect(lambda: settled.append(True))
    try:
        launcher.start()
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, FirstRunDialog), timeout=30_000)
        assert launcher.dialog is not None
        click(qtbot, find(launcher.dialog, QPushButton, "Open the demo clinic"))
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, SignInDialog), timeout=60_000)
        sign_in = launcher.dialog
        assert isinstance(sign_in, SignInDialog)
        assert sign_in.hint.isVisible()
        saved = load_config()
        assert saved is not None and saved.demo

        click(qtbot, find(sign_in, QPushButton, "Sign in"))
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
        assert launcher.window is not None
        assert launcher.window.windowTitle() == "Front Desk — Maple Grove Wellness"
        assert launcher.window.ctx.actor.workstation == "DEMO"
        # Once the window shows, the database thread builds the services it did not need.
        services = launcher.window.ctx.services
        qtbot.waitUntil(lambda: settled == [True], timeout=30_000)
        assert set(LAZY_SERVICES) <= vars(services).keys()

        launcher.window.sign_out()
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, SignInDialog), timeout=10_000)
        assert launcher.window is None
        assert finished == []
        launcher.dialog.reject()
        assert finished == [0]
    finally:
        qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)
        launcher.close_windows()
        launcher.close_context()


def test_a_set_up_workstation_shows_sign_in_before_the_database_is_open(
    qtbot: QtBot, tasks: TaskRunner
) -> None:
    """The sign-in window is drawn first; the database opens behind it while one types."""
    save_config(Config(demo=True))
    launcher = Launcher(tasks, demo=False, profile_factory=None)
    try:
        launcher.start()
        sign_in = launcher.dialog
        assert isinstance(sign_in, SignInDialog)
        assert launcher.context is None  # nothing opened yet, not even queued
        assert tasks.idle
        assert sign_in.hint.isVisible()  # the demo prefill comes from the config file
        qtbot.waitUntil(lambda: launcher.context is not None, timeout=60_000)
        assert launcher.dialog is sign_in  # the same window: no second sign-in
        qtbot.waitUntil(lambda: sign_in.header.subtitle.text() != "", timeout=10_000)
        assert sign_in.header.subtitle.text() == "Maple Grove Wellness"

        click(qtbot, find(sign_in, QPushButton, "Sign in"))
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
        assert launcher.window is not None
        assert launcher.window.ctx.actor.workstation == "DEMO"
    finally:
        qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)
        launcher.close_windows()
        launcher.close_context()


def test_signing_in_before_the_database_has_opened_waits_for_it(
    qtbot: QtBot, tasks: TaskRunner
) -> None:
    save_config(Config(demo=True))
    launcher = Launcher(tasks, demo=False, profile_factory=None)
    try:
        launcher.start()
        sign_in = launcher.dialog
        assert isinstance(sign_in, SignInDialog)
        qtbot.waitUntil(lambda: not tasks.idle, timeout=5_000)  # drawn: the opening began
        sign_in.submit()  # queued behind the opening
        assert sign_in.busy
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=60_000)
        assert launcher.window is not None
        assert launcher.window.ctx.actor.name == "Sam Lee"
    finally:
        qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)
        launcher.close_windows()
        launcher.close_context()


def test_a_config_without_a_clinic_in_its_database_goes_to_first_run(
    qtbot: QtBot, tasks: TaskRunner, desk_home: Path
) -> None:
    save_config(Config(database_url=f"sqlite:///{desk_home / 'empty.sqlite3'}"))
    launcher = Launcher(tasks, demo=False, profile_factory=None)
    try:
        launcher.start()
        assert isinstance(launcher.dialog, SignInDialog)
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, FirstRunDialog), timeout=30_000)
        assert not any(
            isinstance(w, SignInDialog) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    finally:
        qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)
        launcher.close_windows()
        launcher.close_context()


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The app's look applied for one test, then Qt's default restored for the others."""
    style, font, sheet = qapp.style().name(), qapp.font(), qapp.styleSheet()
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setFont(font)
    qapp.setStyle(style)


def test_the_theme_loads_without_qt_warnings(
    qtbot: QtBot, themed: QApplication, window: MainWindow
) -> None:
    sheet = themed.styleSheet()
    assert "QPushButton" in sheet
    assert "@RESOURCES@" not in sheet
    for url in re.findall(r"url\(([^)]+)\)", sheet):
        assert Path(url).is_file(), url
    assert not themed.windowIcon().isNull()
    search_for(qtbot, window, "nguy")  # paints results with the delegate, themed
    window.grab()


def test_qt_messages_go_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="qt"):
        qt_message_handler(QtMsgType.QtWarningMsg, QMessageLogContext(), "QFont: bad size")
        qt_message_handler(
            QtMsgType.QtWarningMsg, QMessageLogContext(), "does not support propagateSizeHints()"
        )
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("qt", logging.WARNING, "QFont: bad size"),
        ("qt", logging.DEBUG, "does not support propagateSizeHints()"),
    ]


def test_a_broken_config_file_is_explained_before_quitting(
    qtbot: QtBot, tasks: TaskRunner, desk_home: Path
) -> None:
    config_file = desk_home / "config" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('workstation = "front desk 1"\n', encoding="utf-8")
    errors = ErrorReporter()
    launcher = Launcher(tasks, demo=False, errors=errors)
    finished: list[int] = []
    launcher.finished.connect(finished.append)
    launcher.start()
    qtbot.waitUntil(lambda: bool(errors.open_dialogs), timeout=10_000)
    [box] = errors.open_dialogs
    assert isinstance(box, QMessageBox)
    assert "is not a valid workstation name" in box.text()
    assert str(config_file) in box.text()
    assert finished == []
    box.close()
    assert finished == [1]
    launcher.close_windows()


def test_about_names_the_versions_and_schema() -> None:
    text = about_text("0001abc")
    assert "Front Desk 0.1.0" in text
    assert "Qt 6." in text
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in text
    assert "Database schema 0001abc" in text


def test_help_about_shows_the_schema_revision(qtbot: QtBot, window: MainWindow) -> None:
    window.about()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "aboutBox") is not None)
    box = window.findChild(QMessageBox, "aboutBox")
    assert isinstance(box, QMessageBox)
    assert f"Database schema {head_revision()}" in box.text()
    box.close()


def test_screenshot_mode_writes_a_png_of_the_main_window(tmp_path: Path) -> None:
    png = tmp_path / "shots" / "s.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DESK_APP_HOME": str(tmp_path / "home")}
    env.pop("DESK_APP_DATABASE_URL", None)
    code = "import sys; from desk_app.__main__ import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "--screenshot", str(png)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1280, 800)
