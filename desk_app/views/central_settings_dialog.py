"""Clinic ▸ Central database: where this workstation's cache syncs to (Full Access)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from desk_app.config import CENTRAL_SSLMODES, CentralConfig, Config, ConfigError, load_config
from desk_app.services.errors import ExternalServiceError, ValidationError
from desk_app.services.sync.service import (
    CentralSettingsInput,
    check_connection,
    save_central_settings,
)
from desk_app.views.forms import (
    DialogHeader,
    FieldForm,
    FormDialog,
    cancel_and_save,
    form_error_label,
    push_button,
)
from desk_app.views.view_context import ViewContext

SSLMODE_LABELS = {
    "disable": "Off (only on a closed network)",
    "prefer": "Use TLS if the server offers it",
    "require": "Require TLS",
    "verify-ca": "Require TLS, check the server's certificate",
    "verify-full": "Require TLS, check the certificate and the host name",
}


class CentralSettingsDialog(FormDialog):
    """URL, TLS, workstation name and password; Test connection; Save (applies at restart)."""

    saved = Signal(object)
    tested = Signal(str)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None, *,
                 config_path: Path | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._config_path = config_path
        self.setWindowTitle("Central database — Front Desk")
        self.setMinimumWidth(640)
        try:
            self._config = load_config(config_path) or Config()
        except ConfigError:
            self._config = Config()
        current = self._config.central

        self.url = QLineEdit(current.url if current else "")
        self.url.setPlaceholderText("postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("leave empty to keep the saved password")
        self.sslmode = QComboBox()
        for mode in CENTRAL_SSLMODES:
            self.sslmode.addItem(SSLMODE_LABELS[mode], mode)
        self.sslmode.setCurrentIndex(CENTRAL_SSLMODES.index(current.sslmode if current
                                                            else "verify-full"))
        self.sslrootcert = QLineEdit(current.sslrootcert if current else "")
        self.sslrootcert.setPlaceholderText("/etc/front-desk/clinic-ca.pem")
        self.workstation = QLineEdit(self._config.workstation)
        self.workstation.setMaxLength(16)

        self.form = FieldForm()
        add = self.form.add
        add("Database address:", self.url, "url",
            hint="The central PostgreSQL: user, server, port and database. No password here.")
        add("Password:", self.password, "password",
            hint="Kept in this computer's keyring, never in a file.")
        add("Encryption (TLS):", self.sslmode, "sslmode")
        add("CA certificate:", self.sslrootcert, "sslrootcert",
            hint="The file that signs the server's certificate (needed to check it).")
        add("Workstation name:", self.workstation, "workstation",
            hint="Unique per computer, such as DESK1 or FRONT-2: it starts this desk's "
                 "invoice numbers.")
        self.outcome = QLabel()
        self.outcome.setObjectName("muted")
        self.outcome.setWordWrap(True)
        self.error = form_error_label()

        self.test_button = push_button("Test connection")
        self.test_button.clicked.connect(self.test)
        buttons, self.cancel_button, self.save_button = cancel_and_save(
            self, self.submit, leading=self.test_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(DialogHeader(
            "Central database",
            "Every workstation keeps its own copy of the clinic and shares changes through "
            "this database. Changes take effect when Front Desk is restarted."))
        layout.addLayout(self.form.layout)
        layout.addWidget(self.outcome)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.url.setFocus(Qt.FocusReason.OtherFocusReason)

    def _typed(self) -> CentralSettingsInput:
        return CentralSettingsInput(
            url=self.url.text().strip(), sslmode=str(self.sslmode.currentData()),
            sslrootcert=self.sslrootcert.text().strip(),
            workstation=self.workstation.text().strip(),
            password=self.password.text() or None)

    def _settings(self) -> CentralConfig | None:
        typed = self._typed()
        try:
            return CentralConfig(url=typed.url, sslmode=typed.sslmode,
                                 sslrootcert=typed.sslrootcert)
        except ConfigError as exc:
            self._show_error(str(exc))
            return None

    def _show_error(self, message: str) -> None:
        field = next((f for f in ("sslrootcert", "sslmode", "url") if f in message), None)
        message = message.removeprefix("central table: ")
        if field is not None:
            self.form.show_error(field, message[:1].upper() + message[1:])
        else:
            self.error.setText(message)
            self.error.show()

    def _clear(self) -> None:
        self.form.clear_errors()
        self.error.hide()
        self.outcome.clear()

    def test(self) -> None:
        self._clear()
        settings = self._settings()
        if settings is None:
            return
        password = self._typed().password
        if password is None:
            password = self._ctx.services.sync.secrets.get(
                "front-desk-central", _secret_name(settings.url))
        self.test_button.setEnabled(False)
        self.outcome.setText("Connecting…")
        self._ctx.tasks.network(lambda: check_connection(settings, password), self._tested,
                                self._test_failed, owner=self)

    def _tested(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self.outcome.setText(message)
        self.tested.emit(message)

    def _test_failed(self, error: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.outcome.clear()
        if isinstance(error, ExternalServiceError):
            self.error.setText(error.message)
            self.error.show()
            self.tested.emit(error.message)
        else:
            self._ctx.tasks.default_failure(error)

    def submit(self) -> None:
        self._clear()
        if self._settings() is None:
            return
        typed, actor, ctx = self._typed(), self._ctx.actor, self._ctx
        config, path = self._config, self._config_path
        self.save_button.setEnabled(False)
        ctx.tasks.db(lambda: save_central_settings(actor, ctx.services.db, config, typed,
                                                   ctx.services.sync.secrets, path),
                     self._saved, self._failed, owner=self)

    def _saved(self, config: Config) -> None:
        self.save_button.setEnabled(True)
        self.saved.emit(config)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(error, ValidationError):
            self._show_error(error.message.removeprefix("central "))
            if "workstation" in error.message:
                self.form.show_error("workstation", error.message)
        elif not self.form.show_refusal(error, self.error):
            self._ctx.tasks.default_failure(error)


def _secret_name(url: str) -> str:
    from desk_app.services.sync.service import secret_name

    return secret_name(url)
