"""Clinic ▸ Packages & Memberships on a synced desk: which workstation bills memberships, and
moving the job to this one."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from desk_app.services.clock import FixedClock
from desk_app.services.db import Database
from desk_app.services.registry import Services
from desk_app.views.packages.plans_dialog import PlansDialog
from desk_app.views.tasks import TaskRunner
from tests.db_fixtures import actor_named
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers_profile import click, named

BUTTON = "Bill memberships from this workstation"


@pytest.fixture
def synced_db(demo_db: Database, clock: FixedClock) -> Iterator[Database]:
    """The demo clinic opened the way a desk with a central database opens its cache."""
    db = Database(demo_db.url, clock, run_migrations=False, capture_changes=True)
    yield db
    db.dispose()


def test_a_synced_desk_shows_who_bills_memberships_and_can_take_it_over(
    qtbot: QtBot, synced_db: Database, tasks: TaskRunner, tmp_path: Path
) -> None:
    services = Services.build(synced_db)
    office = actor_named(synced_db, "office")
    services.memberships.run_due(dataclasses.replace(office, workstation="FRONT2"))
    ctx = signed_in(services, office, tasks)  # signed in at DESK1
    dialog = PlansDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, ctx)
    assert dialog.billing_desk.text() == "Memberships are billed on workstation FRONT2."
    shots = Path(os.environ.get("DESK_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(shots / "packages-settings-billing-desk.png"))

    click(qtbot, dialog, BUTTON)
    wait_idle(qtbot, ctx)
    assert dialog.billing_desk.text() == "Memberships are billed on this workstation (DESK1)."
    assert not named(dialog, QPushButton, BUTTON).isEnabled()
    assert services.memberships.billing_workstation(office) == "DESK1"


def test_a_standalone_desk_does_not_show_it(
    qtbot: QtBot, demo_services: Services, tasks: TaskRunner
) -> None:
    ctx = signed_in(demo_services, actor_named(demo_services.db, "office"), tasks)
    dialog = PlansDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    wait_idle(qtbot, ctx)
    assert not dialog.billing_desk.isVisible()
    assert not dialog.bill_here_button.isVisible()
