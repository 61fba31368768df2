"""`run_gui`: the QApplication, logging and crash dialogs, then start-up (views.startup)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desk_app import __version__, logs
from desk_app.views.error_dialog import ErrorReporter
from desk_app.views.main_thread_gc import MainThreadGarbageCollector
from desk_app.views.qt_logging import install_qt_message_handler
from desk_app.views.startup import Launcher
from desk_app.views.tasks import TaskRunner
from desk_app.views.theme import apply_theme

log = logging.getLogger(__name__)

APP_NAME = "Front Desk"


def application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("FrontDesk")
    app.setDesktopFileName("front-desk")
    return app


def prepare_web_engine() -> None:
    """QtWebEngine (the card form) reads these once, when it starts: set them before that.

    As root Chromium refuses to start with its sandbox on; nothing here needs the GPU.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")


def run_gui(demo: bool, screenshot: Path | None = None) -> int:
    """Run the desktop app until it quits; returns the process exit code."""
    prepare_web_engine()
    app = application()
    app.setQuitOnLastWindowClosed(False)  # the launcher decides when we are done
    apply_theme(app)
    log_file = logs.setup_logging("INFO")
    install_qt_message_handler()
    log.info("Front Desk %s starting (demo=%s, log %s)", __version__, demo, log_file)

    collector = MainThreadGarbageCollector()
    collector.start()
    errors = ErrorReporter()
    tasks = TaskRunner()
    headless = screenshot is not None
    launcher = Launcher(
        tasks, demo=demo, screenshot=screenshot, errors=None if headless else errors
    )
    if not headless:
        logs.install_crash_handlers(errors.show_error)
        tasks.default_failure = errors.task_failed
        previous_crash = logs.last_crash_report()
        if previous_crash:
            log.warning("the previous session ended unexpectedly:\n%s", previous_crash)
            errors.show_previous_crash(previous_crash)
    else:
        # Headless: nobody is there to close an error dialog, so any failure ends the run.
        logs.install_crash_handlers(lambda _title, _text: launcher.finish(1))
        tasks.default_failure = lambda error: _fail_headless(launcher, error)

    launcher.finished.connect(app.exit)
    # After the first paint and the loading behind it: a full collection takes ~60 ms.
    launcher.settled.connect(collector.freeze_survivors)
    QTimer.singleShot(0, launcher.start)
    try:
        code = app.exec()
    finally:
        launcher.close_windows()
        errors.close_all()
        tasks.shutdown()
        launcher.close_context()
        logs.uninstall_crash_handlers()
        app.processEvents()
        collector.stop()
    log.info("Front Desk exiting with code %d", code)
    return code


def _fail_headless(launcher: Launcher, error: BaseException) -> None:
    log.error("background task failed", exc_info=error)
    launcher.finish(1)
