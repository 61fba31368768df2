"""Telling the person at the desk that something failed.

A :class:`ServiceError` is a refusal they can act on: a warning box with its message. Anything
else is a bug: a "Something went wrong" dialog with the details and where the log is. Dialogs
are opened without blocking (``open()``), so a failure never freezes a caller's event loop.
"""

from __future__ import annotations

import html
import logging
import traceback

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desk_app import logs, paths
from desk_app.config import ConfigError
from desk_app.services.errors import SchemaUpgradeFailed, ServiceError
from desk_app.views.a11y import name

log = logging.getLogger(__name__)

UNEXPECTED_TITLE = "Something went wrong"
UNEXPECTED_TEXT = (
    "Something went wrong and this action did not finish. Nothing half-done was saved. "
    "If it happens again, send the details below to your Front Desk support contact."
)
PREVIOUS_CRASH_TITLE = "Front Desk closed unexpectedly"
PREVIOUS_CRASH_TEXT = (
    "The last session ended unexpectedly. If you were in the middle of something, check "
    "that it was saved. The technical details are below."
)


def log_file_path() -> str:
    return str(paths.log_dir() / logs.LOG_FILE_NAME)


def details_of(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)).rstrip()


class ErrorDialog(QDialog):
    """An unexpected error: what happened in plain words, the details, and the log's path."""

    def __init__(
        self,
        title: str,
        text: str,
        details: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(size)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message = QLabel(text)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_label = QLabel(f"The log file is:\n{log_file_path()}")
        self.log_label.setObjectName("muted")
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumHeight(160)
        name(self.details, "Details")
        self.details.setVisible(bool(details))

        self.copy_button = QPushButton("Copy details")
        name(self.copy_button, "Copy details")
        self.copy_button.setVisible(bool(details))
        self.copy_button.clicked.connect(self._copy)
        self.close_button = QPushButton("Close")
        name(self.close_button, "Close")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)

        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(icon)
        words = QVBoxLayout()
        words.addWidget(self.message)
        words.addWidget(self.log_label)
        top.addLayout(words, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 16)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addLayout(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())


def warning_box(parent: QWidget | None, message: str, title: str = "Front Desk") -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent
    )
    ok = box.button(QMessageBox.StandardButton.Ok)
    ok.setText("OK")
    name(ok, "OK")
    return box


def upgrade_failed_box(parent: QWidget | None, error: SchemaUpgradeFailed) -> QMessageBox:
    """The failed-upgrade message, wide, with the backup's path on one line, selectable."""
    text = html.escape(f"{error.message}\n\nThe log file is {log_file_path()}.", quote=False)
    for path in (str(error.backup) if error.backup else "", log_file_path()):
        if path:
            escaped = html.escape(path, quote=False)
            text = text.replace(escaped, f'<span style="white-space: nowrap">{escaped}</span>')
    box = warning_box(parent, text.replace("\n", "<br>"))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setObjectName("upgradeFailedBox")
    box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 720px; }")
    return box


def dialog_for(parent: QWidget | None, error: BaseException) -> QDialog:
    """The dialog that explains `error` (not yet shown)."""
    if isinstance(error, SchemaUpgradeFailed):
        # A long message with a path to copy: wide enough to keep the path on one line.
        return upgrade_failed_box(parent, error)
    if isinstance(error, ServiceError):
        return warning_box(parent, error.message)
    if isinstance(error, ConfigError):  # its message names the file and what to change
        return warning_box(parent, str(error))
    return ErrorDialog(
        UNEXPECTED_TITLE,
        f"{UNEXPECTED_TEXT}\n\n{type(error).__name__}: {error}",
        details_of(error),
        parent,
    )


class ErrorReporter(QObject):
    """Shows error dialogs on the UI thread, whoever asks and from whichever thread.

    ``show_error`` is what :func:`desk_app.logs.install_crash_handlers` calls (possibly from a
    worker thread): it only emits a queued signal. ``task_failed`` is the TaskRunner's
    ``default_failure``.
    """

    _requested = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open: list[QDialog] = []
        self._requested.connect(self._show_crash, Qt.ConnectionType.QueuedConnection)

    @property
    def open_dialogs(self) -> list[QDialog]:
        return list(self._open)

    def show_error(self, title: str, text: str) -> None:
        """Thread-safe: ask the UI thread to show an unexpected-error dialog."""
        self._requested.emit(title, text)

    def task_failed(self, error: BaseException) -> None:
        self.show_failure(error)

    def show_failure(self, error: BaseException) -> QDialog:
        """Explain `error` in a dialog (opened, not blocking); returns it."""
        if not isinstance(error, ServiceError | ConfigError):
            log.error("background task failed", exc_info=error)
        dialog = dialog_for(self._parent_widget(), error)
        self._present(dialog)
        return dialog

    def show_previous_crash(self, report: str) -> None:
        """What faulthandler left behind when the last session died hard."""
        self._present(
            ErrorDialog(
                PREVIOUS_CRASH_TITLE, PREVIOUS_CRASH_TEXT, report.strip(), self._parent_widget()
            )
        )

    @Slot(str, str)
    def _show_crash(self, title: str, text: str) -> None:
        self._present(ErrorDialog(title, text, parent=self._parent_widget()))

    def _present(self, dialog: QDialog) -> None:
        # Parentless dialogs are owned by Python: keep them alive until they close.
        self._open.append(dialog)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if dialog in self._open:
            self._open.remove(dialog)
        dialog.deleteLater()

    def close_all(self) -> None:
        for dialog in list(self._open):
            dialog.close()

    @staticmethod
    def _parent_widget() -> QWidget | None:
        return QApplication.activeWindow()
