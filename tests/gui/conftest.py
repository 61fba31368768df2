"""GUI fixtures: a signed-in ViewContext on the demo clinic, with its own task runner."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from desk_app.services.actor import Actor
from desk_app.services.registry import Services
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext


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


@pytest.fixture
def view_ctx(demo_services: Services, front_desk: Actor, tasks: TaskRunner) -> ViewContext:
    clinic = demo_services.clinic.info(front_desk)
    return ViewContext(services=demo_services, actor=front_desk, tasks=tasks, clinic=clinic)


def wait_idle(qtbot: QtBot, ctx: ViewContext) -> None:
    """Wait until every background call has come back and its callback has run."""
    qtbot.waitUntil(lambda: bool(ctx.tasks.idle), timeout=10_000)
