"""A practitioner at the desk between sessions: the search finds their own patients only, says
so, and opens their profiles; someone else's patient is not offered."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.registry import Services
from desk_app.views.main_window import MainWindow
from desk_app.views.patient_search import OWN_IDLE_HINT
from desk_app.views.tasks import TaskRunner
from tests.db_fixtures import actor_named
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers import find


@pytest.fixture
def okoye(demo_db: Database) -> Actor:
    return actor_named(demo_db, "dokoye")


@pytest.fixture
def practitioner_window(
    qtbot: QtBot, demo_services: Services, okoye: Actor, tasks: TaskRunner
) -> Iterator[MainWindow]:
    ctx = signed_in(demo_services, okoye, tasks)
    main = MainWindow(ctx)
    qtbot.addWidget(main)
    main.resize(1200, 760)
    main.show()
    wait_idle(qtbot, ctx)
    yield main
    wait_idle(qtbot, ctx)


def type_search(qtbot: QtBot, window: MainWindow, text: str) -> None:
    box = find(window, QLineEdit, "Search patients")
    box.clear()
    qtbot.keyClicks(box, text)
    qtbot.waitUntil(lambda: bool(window.search.settled), timeout=10_000)


def test_the_search_offers_their_own_patients_and_opens_them(
    qtbot: QtBot,
    practitioner_window: MainWindow,
    demo_services: Services,
    okoye: Actor,
    demo_db: Database,
    tmp_path: Path,
) -> None:
    window = practitioner_window
    assert window.search.status.text() == OWN_IDLE_HINT
    theirs = demo_services.patients.search(okoye, "a")
    everyone = demo_services.patients.search(actor_named(demo_db, "owner"), "a")
    assert 0 < len(theirs) < len(everyone)

    type_search(qtbot, window, "a")
    assert window.search.model.names() == [p.display_name for p in theirs]

    stranger = next(p for p in everyone if p not in theirs)
    type_search(qtbot, window, stranger.legal_name.split()[-1][:12])
    assert stranger.display_name not in window.search.model.names()
    if not window.search.model.names():
        assert window.search.status.text().startswith("None of your patients match")

    type_search(qtbot, window, theirs[0].legal_name)
    with qtbot.waitSignal(window.profile_shown, timeout=10_000) as shown:
        qtbot.keyClick(find(window, QLineEdit, "Search patients"), Qt.Key.Key_Return)
    assert shown.args == [theirs[0].id]
    wait_idle(qtbot, window.ctx)
    shots = Path(os.environ.get("DESK_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(shots / "practitioner-profile.png"))
