"""Sync in the window: the status bar, the central database settings, the conflict log and
a new workstation's bootstrap, against a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desk_app.config import CentralConfig, load_config
from desk_app.models import AuditEvent, Patient, PaymentMethod
from desk_app.models.sync import SyncConflict
from desk_app.services.registry import Services
from desk_app.services.secret_store import KeyringSecretStore
from desk_app.services.sync.service import CENTRAL_SERVICE, secret_name
from desk_app.views.bootstrap_dialog import BootstrapDialog
from desk_app.views.central_settings_dialog import CentralSettingsDialog
from desk_app.views.conflict_log_dialog import ConflictLogDialog
from desk_app.views.main_window import MainWindow
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers import find
from tests.memory_keyring import MemoryKeyring
from tests.sync_fixtures import Desk, SyncWorld, open_desk

pytestmark = [pytest.mark.gui, pytest.mark.pg]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Set to 1 to refresh docs/screenshots/sync-*.png; otherwise pictures go to the test's folder.
SAVE_ENV_VAR = "DESK_SAVE_SCREENSHOTS"
EXAMPLE_URL = "postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk"


def _shot(widget: QWidget, name: str, tmp_path: Path) -> Path:
    folder = SHOTS if os.environ.get(SAVE_ENV_VAR) == "1" else tmp_path
    path = folder / name
    assert widget.grab().save(str(path))
    return path


@pytest.fixture
def memory_secrets() -> Iterator[KeyringSecretStore]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        yield KeyringSecretStore()
    finally:
        keyring.set_keyring(previous)


_BUILT: list[Services] = []


@pytest.fixture(autouse=True)
def _dispose_sync_engines() -> Iterator[None]:
    yield
    while _BUILT:
        _BUILT.pop().sync.dispose()


def _services(desk: Desk, url: str, secrets: KeyringSecretStore) -> Services:
    services = Services.build(desk.db, central=CentralConfig(url=url, sync_interval_seconds=3600),
                              workstation=desk.name, secrets=secrets)
    _BUILT.append(services)
    return services


def _ctx(desk: Desk, services: Services, tasks: TaskRunner, username: str = "owner"
         ) -> ViewContext:
    return signed_in(services, desk.actor(username), tasks)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"


def test_status_bar_shows_online_waiting_and_last_sync(
        qtbot: QtBot, world: SyncWorld, tasks: TaskRunner, memory_secrets, patients,
        tmp_path: Path) -> None:
    desk = world.desks[0]
    services = _services(desk, world.central_url, memory_secrets)
    ctx = _ctx(desk, services, tasks)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    status = window.sync_status
    qtbot.waitUntil(lambda: status.status.online is True, timeout=20_000)
    assert status.label.text() == "Online · All changes sent · Last sync 14:00"
    services.ledger.record_payment(ctx.actor, patients[0], PaymentMethod.CASH, 1500)
    status.show_status(services.sync.status())
    assert "1 change waiting" in status.label.text() or "changes waiting" in status.label.text()
    qtbot.mouseClick(find(window, type(status.sync_now), "Sync now"), _left())
    qtbot.waitUntil(lambda: "All changes sent" in status.label.text(), timeout=20_000)
    wait_idle(qtbot, ctx)
    _shot(window, "sync-main-window-online.png", tmp_path)
    status.shutdown()


def test_offline_the_desk_keeps_working_and_counts_what_waits(
        qtbot: QtBot, world: SyncWorld, tasks: TaskRunner, memory_secrets, patients,
        tmp_path: Path) -> None:
    desk = world.desks[1]
    services = _services(desk, _closed_port_url(), memory_secrets)
    ctx = _ctx(desk, services, tasks)
    services.ledger.record_payment(ctx.actor, patients[1], PaymentMethod.CASH, 2000)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    status = window.sync_status
    qtbot.waitUntil(lambda: status.status.online is False, timeout=20_000)
    text = status.label.text()
    assert text.startswith("Offline · ") and "waiting" in text
    assert "refused" in status.toolTip().lower()  # why it is offline, for IT
    before = status.status.waiting
    # A payment taken while offline: the count goes up as soon as the desk's work is done.
    ctx.tasks.db(lambda: services.ledger.record_payment(ctx.actor, patients[2],
                                                        PaymentMethod.CASH, 700))
    qtbot.waitUntil(lambda: status.status.waiting == before + 2, timeout=10_000)
    assert status.label.text().startswith("Offline · ")
    _shot(window.statusBar(), "sync-status-offline.png", tmp_path)
    status.shutdown()
    wait_idle(qtbot, ctx)


def test_conflict_log_lists_and_marks_reviewed(
        qtbot: QtBot, world: SyncWorld, tasks: TaskRunner, memory_secrets, patients,
        tmp_path: Path) -> None:
    from tests.sync.test_sync_basics import _rename

    d1, d2, d3 = world.desks
    _rename(d2, patients[0], email="maddy@front.example")
    _rename(d3, patients[0], email="maddy@back.example")
    d2.sync()
    d3.sync()
    d1.sync()
    services = _services(d1, world.central_url, memory_secrets)
    ctx = _ctx(d1, services, tasks)
    dialog = ConflictLogDialog(ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    assert dialog.table.rowCount() == 1
    row = [dialog.table.item(0, c).text() for c in range(5)]
    assert row[1] == "Changed on two desks: patient.email"
    assert row[2] == "maddy@front.example (DESK2)"
    assert row[3] == "maddy@back.example (DESK3)"
    _shot(dialog, "sync-conflict-log.png", tmp_path)
    dialog.table.selectRow(0)
    with qtbot.waitSignal(dialog.reviewed, timeout=10_000):
        qtbot.mouseClick(find(dialog, type(dialog.mark_button), "Mark reviewed"), _left())
    qtbot.waitUntil(lambda: dialog.table.isHidden(), timeout=10_000)
    with d1.db.reading() as s:
        assert s.scalar(select(SyncConflict.reviewed_by_id)) == ctx.actor.staff_id
        assert s.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "sync.conflict_reviewed")) is not None
    wait_idle(qtbot, ctx)


def test_central_settings_test_connection_and_save(
        qtbot: QtBot, world: SyncWorld, tasks: TaskRunner, memory_secrets,
        tmp_path: Path) -> None:
    desk = world.desks[0]
    services = _services(desk, world.central_url, memory_secrets)
    ctx = _ctx(desk, services, tasks)
    config_path = tmp_path / "config.toml"
    dialog = CentralSettingsDialog(ctx, config_path=config_path)
    qtbot.addWidget(dialog)
    dialog.show()
    url_box = find(dialog, type(dialog.url), "Database address")
    url_box.setText("mysql://desk@db/clinic")
    dialog.submit()
    assert "is not PostgreSQL" in dialog.form.error_text("url")
    url_box.setText(world.central_url)
    dialog.sslmode.setCurrentIndex(dialog.sslmode.findData("disable"))
    find(dialog, type(dialog.password), "Password").setText("s3cret")
    find(dialog, type(dialog.workstation), "Workstation name").setText("front-2")
    with qtbot.waitSignal(dialog.tested, timeout=20_000) as tested:
        qtbot.mouseClick(find(dialog, type(dialog.test_button), "Test connection"), _left())
    assert tested.args[0].startswith("Connected: PostgreSQL 15")
    url_box.setText(EXAMPLE_URL)  # the picture shows an address like a clinic's
    _shot(dialog, "sync-central-settings.png", tmp_path)
    url_box.setText(world.central_url)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.mouseClick(find(dialog, type(dialog.save_button), "Save"), _left())
    saved = load_config(config_path)
    assert saved is not None and saved.central is not None
    assert saved.central.url == world.central_url and saved.central.sslmode == "disable"
    assert saved.workstation == "FRONT-2"
    assert "s3cret" not in config_path.read_text()
    assert memory_secrets.get(CENTRAL_SERVICE, secret_name(world.central_url)) == "s3cret"
    wait_idle(qtbot, ctx)


def test_new_workstation_bootstraps_with_a_progress_bar(
        qtbot: QtBot, world: SyncWorld, memory_secrets, tmp_path: Path,
        sqlite_template: Path) -> None:
    path = tmp_path / "new-desk.sqlite3"
    shutil.copyfile(sqlite_template, path)
    desk = open_desk("DESK9", path, world.central_url, bootstrap_page=20)
    world.desks.append(desk)
    services = _services(desk, world.central_url, memory_secrets)
    services.sync._client = desk.client  # small pages: the bar moves several times
    dialog = BootstrapDialog(services.sync)
    qtbot.addWidget(dialog)
    dialog.show()
    seen: list[int] = []
    dialog.runner.progress.connect(lambda p: seen.append(p.done))
    with qtbot.waitSignal(dialog.accepted, timeout=60_000):
        dialog.start()
    assert len(seen) > 3 and seen == sorted(seen)
    assert dialog.bar.value() == dialog.bar.maximum()
    with desk.db.reading() as s:
        assert len(s.scalars(select(Patient.id)).all()) == 3
    dialog.show_progress(type("P", (), {"done": 41_250, "total": 110_000,
                                        "table": "patient"})())  # type: ignore[arg-type]
    _shot(dialog, "sync-bootstrap.png", tmp_path)


def _left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_a_new_workstation_copies_the_clinic_before_sign_in(
        qtbot: QtBot, world: SyncWorld, tasks: TaskRunner, memory_secrets) -> None:
    """Start-up with a [central] table and an empty cache: the copy runs with its progress
    dialog, then the desk signs in to the clinic it copied and syncs in the background."""
    from desk_app.config import Config, save_config
    from desk_app.views.sign_in import SignInDialog
    from desk_app.views.startup import Launcher

    save_config(Config(workstation="DESK7", central=CentralConfig(url=world.central_url)))
    launcher = Launcher(tasks, demo=False, profile_factory=None)
    try:
        launcher.start()
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, BootstrapDialog), timeout=30_000)
        qtbot.waitUntil(lambda: isinstance(launcher.dialog, SignInDialog), timeout=60_000)
        sign_in = launcher.dialog
        assert isinstance(sign_in, SignInDialog)
        find(sign_in, type(sign_in.username), "Username").setText("frontdesk")
        find(sign_in, type(sign_in.password), "Password").setText("demo-password")
        qtbot.mouseClick(find(sign_in, type(sign_in.sign_in_button), "Sign in"), _left())
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
        window = launcher.window
        assert window is not None and window.ctx.actor.workstation == "DESK7"
        status = window.sync_status
        qtbot.waitUntil(lambda: status.status.online is True, timeout=20_000)
        assert status.label.text().startswith("Online · ")
        status.run_now()  # signing in wrote an audit event: it goes at the next cycle
        qtbot.waitUntil(lambda: "All changes sent" in status.label.text(), timeout=20_000)
    finally:
        qtbot.waitUntil(lambda: bool(tasks.idle), timeout=10_000)
        launcher.close_windows()
        launcher.close_context()
