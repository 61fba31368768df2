"""`desk-app --screenshot PNG`: open the demo's first patient and save the window to a file.

For headless machines (CI, docs): it waits until every background task has come back and
nothing new has started for a few ticks, so the picture shows loaded data, not spinners.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desk_app.views.main_window import MainWindow

log = logging.getLogger(__name__)

DEMO_PATIENT_QUERY = "Maddy Ødegård"
POLL_MS = 50
QUIET_TICKS = 6
TIMEOUT_MS = 60_000


class ScreenshotTaker(QObject):
    """Emits `done(exit_code)` once the PNG is written (0) or it could not be (1)."""

    done = Signal(int)

    def __init__(self, window: MainWindow, path: Path, query: str = DEMO_PATIENT_QUERY) -> None:
        super().__init__(window)
        self._window = window
        self._path = path
        self._query = query
        self._quiet = 0
        self._finished = False
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(TIMEOUT_MS)
        self._deadline.timeout.connect(self._timed_out)

    def start(self) -> None:
        self._window.profile_shown.connect(lambda _id: self._poll.start())
        self._deadline.start()
        self._window.search.set_query(self._query)
        self._window.search.open_top_match()

    def _check(self) -> None:
        window = self._window
        settled = window.ctx.tasks.idle and window.search.settled and window.profile is not None
        self._quiet = self._quiet + 1 if settled else 0
        if self._quiet >= QUIET_TICKS:
            self._save()

    def _save(self) -> None:
        self._poll.stop()
        self._deadline.stop()
        window = self._window
        window.repaint()
        QApplication.processEvents()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        saved = window.grab().save(str(self._path), "PNG")
        if saved:
            log.info("saved a screenshot of the main window to %s", self._path)
        else:
            log.error("could not write the screenshot to %s", self._path)
        self._finish(0 if saved else 1)

    def _timed_out(self) -> None:
        self._poll.stop()
        log.error(
            "gave up on the screenshot: the patient did not open within %d s", TIMEOUT_MS // 1000
        )
        self._finish(1)

    def _finish(self, code: int) -> None:
        if not self._finished:
            self._finished = True
            self.done.emit(code)
