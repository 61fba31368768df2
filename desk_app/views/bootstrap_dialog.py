"""A new workstation copies the clinic from the central database, with a progress bar.

Shown at start-up before signing in while the cache has not been filled. Cancelling stops
after the current page; the copy resumes where it stopped the next time.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from desk_app.services.sync.client import BootstrapProgress
from desk_app.services.sync.service import SyncService, SyncStatus
from desk_app.views.forms import DialogHeader, FormDialog, push_button
from desk_app.views.sync_status import SyncRunner

TABLE_LABELS = {"patient": "patients", "invoice": "invoices", "payment": "payments",
                "allocation": "payment applications", "audit_event": "history",
                "appointment": "appointments", "invoice_line": "invoice lines"}


class BootstrapDialog(FormDialog):
    """Runs the copy on the sync thread; accepted when done, rejected if cancelled or failed."""

    def __init__(self, sync: SyncService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self.setWindowTitle("Setting up this workstation — Front Desk")
        self.setMinimumWidth(520)
        self._cancel = threading.Event()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setAccessibleName("Copy progress")
        self.bar.setFormat("%p%")
        self.detail = QLabel("Connecting to the central database…")
        self.detail.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.cancel_button = push_button("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(DialogHeader(
            "Setting up this workstation",
            "Copying the clinic from the central database so this desk can work on its own, "
            "even offline. If you stop now, it carries on from here next time."))
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.runner = SyncRunner(sync, self)
        self.runner.progress.connect(self.show_progress, Qt.ConnectionType.QueuedConnection)
        self.runner.finished.connect(self._finished, Qt.ConnectionType.QueuedConnection)
        self.runner.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        def copy(report: object) -> SyncStatus:
            done = self.sync.client().bootstrap(report,  # type: ignore[arg-type]
                                                 cancelled=self._cancel.is_set)
            if done:
                return self.sync.run_once()
            return self.sync.status()

        self.runner.run(copy)

    def show_progress(self, progress: BootstrapProgress) -> None:
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)
        what = TABLE_LABELS.get(progress.table, progress.table.replace("_", " "))
        self.detail.setText(f"Copied {progress.done:,} of {progress.total:,} records "
                            f"(now: {what}).")

    def cancel(self) -> None:
        if self.runner.running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.detail.setText("Stopping after this page… the copy resumes next time.")
        else:
            self.reject()

    def _finished(self, status: SyncStatus) -> None:
        self.runner.shutdown()
        if status.bootstrapped:
            self.accept()
        else:
            self.reject()

    def _failed(self, error: BaseException) -> None:
        self.error.setText(f"The copy stopped: {error}. Check the connection to the central "
                           "database (Clinic ▸ Central database) and start Front Desk again; "
                           "it resumes where it stopped.")
        self.error.show()
        self.cancel_button.setText("Close")
        self.cancel_button.setAccessibleName("Close")
        self.cancel_button.setEnabled(True)
        self.bar.setRange(0, 1)
