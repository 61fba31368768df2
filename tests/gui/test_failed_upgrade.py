"""A clinic database that cannot be upgraded: the desk is told plainly where the copy is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desk_app.app import database_key
from desk_app.config import Config, save_config
from desk_app.services.db import current_revision, make_engine
from desk_app.views.a11y import unnamed_controls
from desk_app.views.error_dialog import ErrorReporter
from desk_app.views.startup import Launcher
from desk_app.views.tasks import TaskRunner
from tests.memory_keyring import MemoryKeyring
from tests.upgrade_support import migrations_with_a_failing_step, snapshot

pytestmark = pytest.mark.gui


def test_a_failed_upgrade_is_explained_and_the_app_quits(
    qtbot: QtBot,
    tasks: TaskRunner,
    demo_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
) -> None:
    """(With a keyring the file is encrypted on open, before the backup: the copy and the
    restored file are encrypted too, with the same key.)"""
    from desk_app.services import db as db_module

    clinic = tmp_path / "clinic" / "front-desk.sqlite3"
    clinic.parent.mkdir()
    shutil.copyfile(demo_template, clinic)
    url = f"sqlite:///{clinic}"
    engine = make_engine(url)
    before = snapshot(engine)
    engine.dispose()
    head = db_module.HEAD_REVISION
    monkeypatch.setattr(db_module, "MIGRATIONS_DIR",
                        migrations_with_a_failing_step(tmp_path / "code", head))
    monkeypatch.setattr(db_module, "HEAD_REVISION", "9999")
    save_config(Config(database_url=url, workstation="FRONT-1"))

    errors = ErrorReporter()
    launcher = Launcher(tasks, demo=False, errors=errors)
    finished: list[int] = []
    launcher.finished.connect(finished.append)
    launcher.start()
    qtbot.waitUntil(lambda: bool(errors.open_dialogs), timeout=60_000)
    [box] = errors.open_dialogs
    assert isinstance(box, QMessageBox)
    text = box.text()
    [backup] = clinic.parent.glob("front-desk.before-upgrade-from-*.sqlite3")
    assert "could not update the clinic's database" in text
    assert "Nothing was changed" in text
    assert str(backup) in text
    assert "The log file is " in text
    assert box.objectName() == "upgradeFailedBox"
    assert unnamed_controls(box) == []
    assert finished == []
    box.close()
    assert finished == [1]
    launcher.close_windows()

    engine = make_engine(url, key=database_key(url))
    assert current_revision(engine) == head
    assert snapshot(engine) == before
    engine.dispose()
