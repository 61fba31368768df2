"""The first start on a workstation with no clinic: open the demo, or set up a new clinic."""

from __future__ import annotations

import enum
import zoneinfo
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.config import Config, save_config
from desk_app.services.db import Database
from desk_app.services.setup import SUPPORTED_CURRENCIES, create_clinic
from desk_app.views.a11y import name
from desk_app.views.forms import DialogHeader, FieldForm, FormDialog, form_error_label, push_button
from desk_app.views.tasks import TaskRunner

DEFAULT_TIME_ZONE = "America/Toronto"
_HIDDEN_ZONE_PREFIXES = ("Etc/", "posix/", "right/", "SystemV/")


class FirstRunChoice(enum.Enum):
    DEMO = "demo"
    CREATED = "created"


def time_zone_names() -> list[str]:
    """Region/City zones people recognise (no Etc/GMT+5 or legacy aliases without a region)."""
    return sorted(
        zone
        for zone in zoneinfo.available_timezones()
        if "/" in zone and not zone.startswith(_HIDDEN_ZONE_PREFIXES)
    )


@dataclass(frozen=True)
class NewClinic:
    clinic_name: str
    time_zone: str
    currency: str
    location_name: str
    first_name: str
    last_name: str
    username: str
    password: str


class FirstRunDialog(FormDialog):
    """Accepted with `choice` DEMO (the caller opens the demo) or CREATED (clinic made)."""

    def __init__(
        self,
        db: Database,
        tasks: TaskRunner,
        config: Config,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._tasks = tasks
        self._config = config
        self.choice: FirstRunChoice | None = None
        self.created_username = ""
        self.setWindowTitle("Welcome — Front Desk")
        self.setMinimumWidth(560)
        # Two pages in one layout, one hidden at a time: the dialog takes the size of the page
        # shown (a QStackedWidget would keep the height of the taller one).
        self.choice_page = self._choice_page()
        self.setup_page = self._setup_page()
        self.setup_page.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.addWidget(self.choice_page)
        layout.addWidget(self.setup_page)

    # -- page 1: the choice --------------------------------------------------------------

    def _choice_page(self) -> QWidget:
        page = QWidget()
        header = DialogHeader(
            "Welcome to Front Desk",
            "There is no clinic on this workstation yet. How would you like to start?",
        )
        self.demo_button = push_button("Open the demo clinic")
        self.demo_button.setProperty("choice", True)
        self.demo_button.clicked.connect(self._choose_demo)
        self.setup_button = push_button("Set up a new clinic")
        self.setup_button.setProperty("choice", True)
        self.setup_button.clicked.connect(self.show_setup)
        self.quit_button = push_button("Quit")
        self.quit_button.clicked.connect(self.reject)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(header)
        layout.addSpacing(10)
        layout.addWidget(self.demo_button)
        layout.addWidget(
            _muted(
                "Explore with made-up patients, staff, appointments and invoices. Nothing you do "
                "there touches real data, and you can set up your own clinic later."
            )
        )
        layout.addSpacing(12)
        layout.addWidget(self.setup_button)
        layout.addWidget(
            _muted(
                "Create your clinic, its first location and your own Full Access account. "
                "It takes about a minute."
            )
        )
        layout.addSpacing(16)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.quit_button)
        layout.addLayout(row)
        return page

    def _choose_demo(self) -> None:
        self.choice = FirstRunChoice.DEMO
        self.accept()

    def show_setup(self) -> None:
        self._show_page(self.setup_page)
        self.clinic_name.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_choice(self) -> None:
        self._show_page(self.choice_page)
        self.setup_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_page(self, page: QWidget) -> None:
        for each in (self.choice_page, self.setup_page):
            each.setVisible(each is page)
        self.adjustSize()
        self.fit_height()

    # -- page 2: setting up a clinic ----------------------------------------------------------

    def _setup_page(self) -> QWidget:
        page = QWidget()
        header = DialogHeader(
            "Set up a new clinic",
            "You can change the clinic's details later in Clinic ▸ Settings.",
        )
        self.clinic_name = QLineEdit()
        self.time_zone = QComboBox()
        self.time_zone.setEditable(True)
        self.time_zone.addItems(time_zone_names())
        self.time_zone.setCurrentText(DEFAULT_TIME_ZONE)
        self.time_zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(time_zone_names(), self.time_zone)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.time_zone.setCompleter(completer)
        self.currency = QComboBox()
        self.currency.addItems(list(SUPPORTED_CURRENCIES))
        self.location_name = QLineEdit()
        self.location_name.setPlaceholderText("for example, Main Street")
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)

        self.form = FieldForm()
        add = self.form.add
        add("Clinic name:", self.clinic_name, "clinic name")
        add("Time zone:", self.time_zone, "time_zone")
        add("Currency:", self.currency, "currency")
        add("First location:", self.location_name, "location name")
        add("Your first name:", self.first_name, "first name")
        add("Your last name:", self.last_name, "last name")
        add(
            "Username:",
            self.username,
            "username",
            hint="3 to 40 letters, digits, dots, dashes or underscores.",
        )
        add("Password:", self.password, "password", hint="At least 8 characters.")
        add("Confirm password:", self.confirm, "confirm")
        self.error = form_error_label()

        self.back_button = push_button("Back")
        self.back_button.clicked.connect(self.show_choice)
        self.create_button = push_button("Create clinic", primary=True)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.submit)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(header)
        layout.addLayout(self.form.layout)
        layout.addWidget(self.error)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.create_button)
        layout.addLayout(row)
        return page

    def new_clinic(self) -> NewClinic:
        return NewClinic(
            clinic_name=self.clinic_name.text(),
            time_zone=self.time_zone.currentText().strip(),
            currency=self.currency.currentText(),
            location_name=self.location_name.text(),
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            username=self.username.text(),
            password=self.password.text(),
        )

    def submit(self) -> None:
        if not self.create_button.isEnabled():
            return
        self.form.clear_errors()
        self.error.hide()
        if self.password.text() != self.confirm.text():
            self.form.show_error("confirm", "The two passwords do not match; type them again.")
            return
        data = self.new_clinic()
        self._set_busy(True)
        db, config = self._db, self._config

        def create() -> None:
            create_clinic(db, workstation=config.workstation, **vars(data))
            save_config(config)

        self._tasks.db(create, lambda _r: self._created(data.username), self._failed, owner=self)

    def _set_busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.back_button.setEnabled(not busy)
        label = "Creating…" if busy else "Create clinic"
        self.create_button.setText(label)
        name(self.create_button, label)

    def _created(self, username: str) -> None:
        self._set_busy(False)
        self.choice = FirstRunChoice.CREATED
        self.created_username = username.strip().lower()
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        if not self.form.show_refusal(error, self.error):
            self._tasks.default_failure(error)


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("muted")
    label.setWordWrap(True)
    label.setContentsMargins(4, 0, 4, 0)
    return label
