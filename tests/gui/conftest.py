"""GUI fixtures: a signed-in ViewContext on the demo clinic, with its own task runner."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from desk_app.services.actor import Actor
from desk_app.services.db import Database
from desk_app.services.registry import Services
from desk_app.views.main_window import MainWindow
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named


@pytest.fixture(autouse=True)
def main_thread_gc() -> Iterator[None]:
    """No automatic garbage collection during a GUI test; collect on the UI thread after it.

    As in the app (views/main_thread_gc.py): the collector must never run on the database
    thread, where freeing a widget held in some cycle would crash Qt.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    qtbot.waitUntil(lambda: bool(runner.idle), timeout=10_000)
    runner.shutdown()


def signed_in(services: Services, actor: Actor, tasks: TaskRunner) -> ViewContext:
    """What the views get once `actor` has signed in: their clinic as the services report it."""
    clinic = services.clinic.info(actor)
    return ViewContext(services=services, actor=actor, tasks=tasks, clinic=clinic)


@pytest.fixture
def view_ctx(demo_services: Services, front_desk: Actor, tasks: TaskRunner) -> ViewContext:
    return signed_in(demo_services, front_desk, tasks)


@pytest.fixture
def owner(demo_db: Database) -> Actor:
    return actor_named(demo_db, "owner")


@pytest.fixture
def owner_ctx(demo_services: Services, owner: Actor, tasks: TaskRunner) -> ViewContext:
    """Signed in with Full Access (the clinic settings are offered)."""
    return signed_in(demo_services, owner, tasks)


@pytest.fixture
def window(qtbot: QtBot, view_ctx: ViewContext) -> Iterator[MainWindow]:
    """The main window, shown and loaded, for the front desk."""
    main = MainWindow(view_ctx)
    qtbot.addWidget(main)
    main.show()
    wait_idle(qtbot, view_ctx)
    yield main
    wait_idle(qtbot, view_ctx)


def wait_idle(qtbot: QtBot, ctx: ViewContext) -> None:
    """Wait until every background call has come back and its callback has run."""
    qtbot.waitUntil(lambda: bool(ctx.tasks.idle), timeout=10_000)
