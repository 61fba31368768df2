"""A clinic that is not the demo is guided through its set-up: clinic, location, first Full
Access user, then optional payments, messaging and central database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desk_app.config import Config, load_config
from desk_app.models.audit import AuditEvent
from desk_app.models.clinic import Clinic, Location
from desk_app.services.db import Database
from desk_app.services.registry import Services
from desk_app.services.setup import create_clinic
from desk_app.views import setup_steps
from desk_app.views.first_run import FirstRunChoice, FirstRunDialog
from desk_app.views.main_window import MainWindow
from desk_app.views.payment_accounts_dialog import PaymentAccountsDialog
from desk_app.views.startup import Launcher
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.gui.helpers import find
from tests.memory_keyring import MemoryKeyring

pytestmark = pytest.mark.gui


def click(qtbot: QtBot, dialog: QWidget, label: str) -> None:
    qtbot.mouseClick(find(dialog, QPushButton, label, visible=True), Qt.MouseButton.LeftButton)


def type_into(dialog: QWidget, label: str, text: str) -> None:
    widget = find(dialog, QLineEdit, label, visible=True)
    widget.setText(text)


@pytest.fixture
def services(sqlite_db: Database, memory_keyring: MemoryKeyring) -> Services:
    return Services.build(sqlite_db)


@pytest.fixture
def dialog(qtbot: QtBot, services: Services, tasks: TaskRunner) -> Iterator[FirstRunDialog]:
    dialog = FirstRunDialog(services, tasks, Config(workstation="FRONT-1"))
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)


def fill_clinic(dialog: FirstRunDialog) -> None:
    type_into(dialog, "Clinic name", "Harbour Physio")
    type_into(dialog, "Phone", "416-555-0100")
    type_into(dialog, "Email", "Front@HarbourPhysio.example")
    find(dialog, QPlainTextEdit, "Address", visible=True).setPlainText("1 Harbour St\nToronto")


def test_each_step_says_what_to_change_before_going_on(
    qtbot: QtBot, dialog: FirstRunDialog
) -> None:
    click(qtbot, dialog, "Set up a new clinic")
    assert dialog.current_page() is dialog.clinic_page
    assert "Step 1 of 3" in dialog.clinic_page.findChild(QLabel, "dialogSubtitle").text()
    click(qtbot, dialog, "Next")
    assert dialog.current_page() is dialog.clinic_page
    assert dialog.clinic_form.error_text("clinic name") == "Clinic name is required."

    fill_clinic(dialog)
    type_into(dialog, "Email", "front at harbour")
    click(qtbot, dialog, "Next")
    assert dialog.clinic_form.error_text("clinic_email").startswith(
        "Email “frontatharbour” is not an email address"
    )
    type_into(dialog, "Phone", "call us")
    type_into(dialog, "Email", "front@harbourphysio.example")
    click(qtbot, dialog, "Next")
    assert dialog.clinic_form.error_text("clinic_phone") == (
        "Phone “call us” has letters in it; type digits only, for example 416-555-0123."
    )
    type_into(dialog, "Phone", "416-555-0100")
    click(qtbot, dialog, "Next")
    assert dialog.current_page() is dialog.location_page

    click(qtbot, dialog, "Next")
    assert dialog.location_form.error_text("location name") == "Location name is required."
    click(qtbot, dialog, "Back")
    assert dialog.current_page() is dialog.clinic_page
    assert find(dialog, QLineEdit, "Clinic name", visible=True).text() == "Harbour Physio"


def test_setting_up_a_clinic_creates_it_signs_in_and_offers_the_optional_steps(
    qtbot: QtBot, dialog: FirstRunDialog, sqlite_db: Database
) -> None:
    click(qtbot, dialog, "Set up a new clinic")
    fill_clinic(dialog)
    click(qtbot, dialog, "Next")
    type_into(dialog, "Location name", "Harbourfront")
    click(qtbot, dialog, "Next")
    assert dialog.current_page() is dialog.account_page
    type_into(dialog, "Your first name", "Ana")
    type_into(dialog, "Your last name", "Silva")
    type_into(dialog, "Username", "ana silva")
    type_into(dialog, "Password", "harbour-physio-1")
    type_into(dialog, "Confirm password", "harbour-physio-2")
    click(qtbot, dialog, "Create clinic")
    assert dialog.account_form.error_text("confirm") == (
        "The two passwords do not match; type them again."
    )

    type_into(dialog, "Confirm password", "harbour-physio-1")
    click(qtbot, dialog, "Create clinic")
    qtbot.waitUntil(lambda: dialog.account_form.error_text("username") != "", timeout=10_000)
    assert dialog.account_form.error_text("username").startswith("A username is 3 to 40")
    assert load_config() is None
    with sqlite_db.reading() as s:  # nothing half-written
        assert s.scalars(select(Clinic)).all() == []

    type_into(dialog, "Username", "ana")
    click(qtbot, dialog, "Create clinic")
    qtbot.waitUntil(lambda: dialog.current_page() is dialog.optional_page, timeout=15_000)

    assert dialog.choice is FirstRunChoice.CREATED
    assert dialog.actor is not None and dialog.actor.name == "Ana Silva"
    assert load_config() == Config(workstation="FRONT-1")
    subtitle = dialog.optional_page.findChild(QLabel, "dialogSubtitle").text()
    assert subtitle.startswith("Harbour Physio is ready and you are signed in.")
    texts = [label.text() for label in dialog.optional_page.findChildren(QLabel)]
    assert "<b>Card payments</b>" in texts
    assert "<b>Messages to patients</b>" in texts
    assert "<b>Central database</b>" in texts
    assert "Later: Clinic ▸ Billing notices." in texts  # messaging opens its dialog now
    assert "Later: Clinic ▸ Central database." in texts
    with sqlite_db.reading() as s:
        clinic = s.scalars(select(Clinic)).one()
        assert (clinic.name, clinic.phone, clinic.email, clinic.address) == (
            "Harbour Physio", "416-555-0100", "front@harbourphysio.example",
            "1 Harbour St\nToronto",
        )
        assert [loc.name for loc in s.scalars(select(Location))] == ["Harbourfront"]
        kinds = sorted(e.action for e in s.scalars(select(AuditEvent)))
    assert "clinic.created" in kinds

    click(qtbot, dialog, "Set up card payments…")
    qtbot.waitUntil(lambda: dialog.findChild(PaymentAccountsDialog) is not None, timeout=5_000)
    accounts = dialog.findChild(PaymentAccountsDialog)
    assert accounts is not None and accounts.isVisible()
    accounts.close()

    with qtbot.waitSignal(dialog.accepted, timeout=5_000):
        click(qtbot, dialog, "Finish")


def test_a_wired_optional_step_opens_its_dialog(
    qtbot: QtBot, dialog: FirstRunDialog, services: Services, tasks: TaskRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[ViewContext] = []

    def messaging(ctx: ViewContext, parent: QWidget) -> QDialog:
        opened.append(ctx)
        box = QDialog(parent)
        box.setWindowTitle("Messaging settings")
        return box

    monkeypatch.setattr(setup_steps, "_STEPS", dict(setup_steps._STEPS))
    setup_steps.set_opener("messaging", messaging)
    with pytest.raises(KeyError, match="no optional set-up step 'sms'"):
        setup_steps.set_opener("sms", messaging)
    create_clinic(services.db, clinic_name="Harbour Physio", time_zone="America/Toronto",
                  currency="CAD", location_name="Harbourfront", first_name="Ana",
                  last_name="Silva", username="ana", password="harbour-physio-1",
                  workstation="FRONT-1")
    actor = services.auth.sign_in("ana", "harbour-physio-1", "FRONT-1")
    ctx = ViewContext(services=services, actor=actor, tasks=tasks,
                      clinic=services.clinic.info(actor))

    wired = FirstRunDialog(services, tasks, Config(workstation="FRONT-1"))
    qtbot.addWidget(wired)
    assert set(wired.optional_page.step_buttons) == {"payments", "messaging", "central_database"}
    wired.optional_page.set_context(ctx)
    wired.show()
    wired.show_page(wired.optional_page)
    click(qtbot, wired, "Set up messaging…")
    assert opened == [ctx]
    assert any(d.windowTitle() == "Messaging settings" for d in wired.findChildren(QDialog))


def test_a_new_workstation_goes_from_set_up_to_the_main_window(
    qtbot: QtBot, tasks: TaskRunner, memory_keyring: MemoryKeyring
) -> None:
    launcher = Launcher(tasks, demo=False)
    finished: list[int] = []
    launcher.finished.connect(finished.append)
    try:
        launcher.start()
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, FirstRunDialog), timeout=30_000)
        dialog = launcher.dialog
        assert isinstance(dialog, FirstRunDialog)
        click(qtbot, dialog, "Set up a new clinic")
        fill_clinic(dialog)
        click(qtbot, dialog, "Next")
        type_into(dialog, "Location name", "Harbourfront")
        click(qtbot, dialog, "Next")
        type_into(dialog, "Your first name", "Ana")
        type_into(dialog, "Your last name", "Silva")
        type_into(dialog, "Username", "ana")
        type_into(dialog, "Password", "harbour-physio-1")
        type_into(dialog, "Confirm password", "harbour-physio-1")
        click(qtbot, dialog, "Create clinic")
        qtbot.waitUntil(lambda: dialog.current_page() is dialog.optional_page, timeout=15_000)
        click(qtbot, dialog, "Finish")
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=10_000)
        window = launcher.window
        assert isinstance(window, MainWindow)
        assert window.windowTitle() == "Front Desk — Harbour Physio"
        assert window.ctx.actor.name == "Ana Silva"
        assert finished == []
    finally:
        qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)
        launcher.close_windows()
        launcher.close_context()
