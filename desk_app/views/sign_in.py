"""Signing in at the workstation: username, password, and a clear message when it fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desk_app.services.demo_credentials import DEMO_PASSWORD, DEMO_USERNAME
from desk_app.services.errors import ServiceError
from desk_app.views.a11y import name
from desk_app.views.forms import DialogHeader, FieldForm, FormDialog, form_error_label, push_button
from desk_app.views.tasks import TaskRunner

if TYPE_CHECKING:  # the window opens before the database layer has loaded (views/startup.py)
    from desk_app.services.actor import Actor
    from desk_app.services.registry import Services

DEMO_HINT = (
    f"Demo clinic: sign in as {DEMO_USERNAME} / {DEMO_PASSWORD} (or owner, billing, psharma…)"
)


class SignInDialog(FormDialog):
    #: The window has been drawn once: start-up begins the heavy work after this.
    first_painted = Signal()

    """Accepted once the service has signed someone in; `actor` is then who it was.

    `services` gives the open clinic's services when called; it is called only on the
    database thread, so the window can be up while the database is still opening (the
    database thread runs tasks in order: the opening first, then this window's).
    """

    def __init__(
        self,
        services: Callable[[], Services],
        tasks: TaskRunner,
        workstation: str,
        *,
        demo: bool = False,
        load_clinic_name: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._tasks = tasks
        self._workstation = workstation
        self.actor: Actor | None = None
        self.setWindowTitle("Sign in — Front Desk")
        self.setMinimumWidth(460)

        self.header = DialogHeader("Sign in to Front Desk", "")
        self.hint = QLabel(DEMO_HINT)
        self.hint.setObjectName("hint")
        self.hint.setIndent(0)
        self.hint.setWordWrap(True)
        self.hint.setVisible(demo)

        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = FieldForm()
        form.add("Username:", self.username)
        form.add("Password:", self.password)

        self.error = form_error_label()
        self.error.setAccessibleName("Sign-in problem")

        self.quit_button = push_button("Quit")
        self.quit_button.clicked.connect(self.reject)
        self.sign_in_button = push_button("Sign in", primary=True)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.sign_in_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(self.header)
        layout.addWidget(self.hint)
        layout.addLayout(form.layout)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        if demo:
            self.username.setText(DEMO_USERNAME)
            self.password.setText(DEMO_PASSWORD)
            self.sign_in_button.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.username.setFocus(Qt.FocusReason.OtherFocusReason)
        self._painted = False
        if load_clinic_name:
            self.load_clinic_name()

    def load_clinic_name(self) -> None:
        """Show the clinic's name under the title (read on the database thread)."""
        services = self._services
        self._tasks.db(
            lambda: services().clinic.only_clinic_name(),
            self._show_clinic_name,
            lambda _e: None,
            owner=self,
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    def _show_clinic_name(self, clinic_name: str | None) -> None:
        self.header.set_subtitle(clinic_name or "")

    @property
    def busy(self) -> bool:
        return not self.sign_in_button.isEnabled()

    def submit(self) -> None:
        if self.busy:
            return
        username, password = self.username.text(), self.password.text()
        self.error.hide()
        self._set_busy(True)
        services, workstation = self._services, self._workstation
        self._tasks.db(
            lambda: services().auth.sign_in(username, password, workstation),
            self._signed_in,
            self._failed,
            owner=self,
        )

    def _set_busy(self, busy: bool) -> None:
        self.sign_in_button.setEnabled(not busy)
        label = "Signing in…" if busy else "Sign in"
        self.sign_in_button.setText(label)
        name(self.sign_in_button, label)
        self.username.setEnabled(not busy)
        self.password.setEnabled(not busy)

    def _signed_in(self, actor: Actor) -> None:
        self.actor = actor
        self._set_busy(False)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        show_password_refusal(error, self.error, self.password, self._tasks)

    @property
    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()


def show_password_refusal(
    error: BaseException, label: QLabel, password: QLineEdit, tasks: TaskRunner
) -> None:
    """A refused password (wrong, locked out) under the field, the password selected to type
    again; anything unexpected goes to the usual error report."""
    if not isinstance(error, ServiceError):
        tasks.default_failure(error)
        return
    label.setText(error.message)
    label.show()
    password.selectAll()
    password.setFocus(Qt.FocusReason.OtherFocusReason)
