"""Sync in the main window: its own thread, the status bar's indicator, the Clinic menu items.

Sync cycles run on a thread of their own (never the UI thread, never the database thread, and
not the network pool either, so a cycle every few seconds neither shows "Working…" nor waits
behind a card charge). Results come back to the UI thread by a queued signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from desk_app.services.clock import to_clinic_time
from desk_app.services.permissions import Permission
from desk_app.services.sync.client import BootstrapProgress
from desk_app.services.sync.service import SyncService, SyncStatus
from desk_app.views.view_context import ViewContext

if TYPE_CHECKING:
    from desk_app.views.main_window import MainWindow

log = logging.getLogger(__name__)

#: How soon the first cycle runs after the window opens.
FIRST_SYNC_MS = 500


class SyncRunner(QObject):
    """Runs sync cycles one at a time on the sync thread; `finished(SyncStatus)` on the UI
    thread, `progress(BootstrapProgress)` while a bootstrap copies rows."""

    finished = Signal(object)
    progress = Signal(object)
    failed = Signal(object)

    def __init__(self, sync: SyncService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync")
        self._running: Future[Any] | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    def run(self, work: Callable[[Callable[[BootstrapProgress], None]], Any] | None = None
            ) -> None:
        """Start a cycle (or `work`, given the progress callback) unless one is running (or
        the window has closed)."""
        if self.running or self._closed:
            return
        job = work or (lambda report: self.sync.run_once(report))

        def body() -> Any:
            return job(self._report)

        self._running = self._pool.submit(body)
        self._running.add_done_callback(self._done)

    def _report(self, progress: BootstrapProgress) -> None:
        if shiboken6.isValid(self):
            self.progress.emit(progress)

    def _done(self, future: Future[Any]) -> None:
        if not shiboken6.isValid(self):
            return
        error = future.exception()
        if error is not None:
            log.error("sync failed", exc_info=error)
            self.failed.emit(error)
        else:
            self.finished.emit(future.result())

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)


def status_text(status: SyncStatus, time_zone: str, now: datetime) -> str:
    """What the status bar says: "Online · 3 changes waiting · Last sync 14:05"."""
    if not status.configured:
        return "Standalone"
    parts = [status.summary]
    if status.waiting:
        parts.append(f"{status.waiting:,} change{'s' if status.waiting != 1 else ''} waiting")
    else:
        parts.append("All changes sent")
    if status.last_sync_at is not None:
        local = to_clinic_time(status.last_sync_at, time_zone)
        same_day = local.date() == to_clinic_time(now, time_zone).date()
        parts.append(f"Last sync {local:%H:%M}" if same_day else f"Last sync {local:%b %d %H:%M}")
    else:
        parts.append("Not synced yet")
    if status.unreviewed_conflicts:
        parts.append(f"{status.unreviewed_conflicts} to review")
    return " · ".join(parts)


class SyncStatusWidget(QWidget):
    """The status bar's sync indicator: a dot and the text, a button to sync now."""

    def __init__(self, ctx: ViewContext, open_conflicts: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sync = ctx.services.sync
        self.runner = SyncRunner(self.sync, self)
        self.runner.finished.connect(self.show_status, Qt.ConnectionType.QueuedConnection)
        self.runner.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)
        self.dot = QLabel("●")
        self.dot.setObjectName("syncDot")
        self.label = QLabel()
        self.label.setObjectName("syncStatus")
        self.sync_now = QToolButton()
        self.sync_now.setText("Sync now")
        self.sync_now.setAccessibleName("Sync now")
        self.sync_now.setAutoRaise(True)
        self.sync_now.clicked.connect(self.run_now)
        self.review = QToolButton()
        self.review.setText("Review conflicts")
        self.review.setAccessibleName("Review conflicts")
        self.review.setAutoRaise(True)
        self.review.setVisible(False)
        if open_conflicts is not None:
            self.review.clicked.connect(open_conflicts)
        self._can_review = open_conflicts is not None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(6)
        layout.addWidget(self.dot)
        layout.addWidget(self.label)
        layout.addWidget(self.review)
        layout.addWidget(self.sync_now)
        self.timer = QTimer(self)
        settings = self.sync.settings
        self.timer.setInterval(1000 * (settings.sync_interval_seconds if settings else 60))
        self.timer.timeout.connect(self.run_now)
        self.status = SyncStatus(configured=self.sync.configured)
        self._refreshing = False
        self.show_status(self.status)
        if self.sync.configured:
            self.timer.start()
            QTimer.singleShot(FIRST_SYNC_MS, self, self.run_now)
            # After the desk's own work (a payment taken offline), show what waits at once.
            ctx.tasks.busy_changed.connect(self._desk_work_done)

    def _desk_work_done(self, busy: bool) -> None:
        # Our own status read ends with the runner idle too: it must not start another.
        if busy or self.runner.running or self._refreshing:
            return
        self._refreshing = True
        sync, online = self.sync, self.status.online

        def show(status: SyncStatus) -> None:
            self._refreshing = False
            self.show_status(_keep_online(status, online))

        def failed(error: BaseException) -> None:
            self._refreshing = False
            log.warning("could not read the sync status: %s", error)

        self.ctx.tasks.db(sync.status, show, failed, owner=self)

    def run_now(self) -> None:
        if self.sync.configured:
            self.runner.run()

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        text = status_text(status, self.ctx.clinic.time_zone, self.ctx.services.db.clock.now())
        self.label.setText(text)
        self.label.setAccessibleName(text)
        colour = {True: "#2e7d32", False: "#c62828", None: "#9e9e9e"}[status.online]
        if status.online and status.message:
            colour = "#ef6c00"  # connected, but sync stopped (schema): see the tooltip
        self.dot.setStyleSheet(f"color: {colour};")
        tip = status.message or ("Changes are saved on this computer and sent to the central "
                                 "database in the background.")
        self.setToolTip(tip)
        self.label.setToolTip(tip)
        self.review.setVisible(self._can_review and status.unreviewed_conflicts > 0)
        self.sync_now.setVisible(status.configured)

    def _failed(self, error: BaseException) -> None:
        self.show_status(SyncStatus(configured=True, online=False, waiting=self.status.waiting,
                                    last_sync_at=self.status.last_sync_at,
                                    message=f"Sync failed: {error}"))

    def shutdown(self) -> None:
        self.timer.stop()
        self.runner.shutdown()


def _keep_online(status: SyncStatus, online: bool | None) -> SyncStatus:
    from dataclasses import replace

    return replace(status, online=online if status.online is None else status.online)


def install_sync_ui(window: MainWindow) -> SyncStatusWidget:
    """Add the sync indicator to the status bar and the sync items to the Clinic menu."""
    ctx = window.ctx
    open_conflicts = None
    if ctx.can(Permission.VIEW_AUDIT):
        def open_conflicts() -> None:
            from desk_app.views.conflict_log_dialog import ConflictLogDialog

            dialog = ConflictLogDialog(ctx, window)
            dialog.reviewed.connect(widget.run_now)
            dialog.open()

    widget = SyncStatusWidget(ctx, open_conflicts, window)
    window.statusBar().addPermanentWidget(widget)
    if ctx.can(Permission.MANAGE_CLINIC):
        menu = window.clinic_menu()
        menu.addSeparator()
        central = menu.addAction("&Central database…")

        def open_settings() -> None:
            from desk_app.views.central_settings_dialog import CentralSettingsDialog

            CentralSettingsDialog(ctx, window).open()

        central.triggered.connect(open_settings)
        if open_conflicts is not None:
            menu.addAction("Sync &conflicts…").triggered.connect(open_conflicts)
    window.closed.connect(widget.shutdown)
    window.signed_out.connect(widget.shutdown)
    return widget
