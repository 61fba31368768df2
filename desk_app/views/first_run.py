"""The first start on a workstation with no clinic: open the demo, or set up a new clinic."""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk_app.config import Config, save_config
from desk_app.services.actor import Actor
from desk_app.services.clinic_settings import ClinicInfo
from desk_app.services.errors import ValidationError
from desk_app.services.registry import Services
from desk_app.services.setup import (
    SUPPORTED_CURRENCIES,
    ClinicDetails,
    FirstLocation,
    FirstUser,
    check_clinic_details,
    check_location,
    create_clinic,
)
from desk_app.views.a11y import name
from desk_app.views.forms import DialogHeader, FieldForm, FormDialog, form_error_label, push_button
from desk_app.views.optional_setup_page import OptionalSetupPage, muted
from desk_app.views.tasks import TaskRunner
from desk_app.views.view_context import ViewContext

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
class Created:
    """What the creation step hands back: the new user, signed in, and their clinic."""

    actor: Actor
    clinic: ClinicInfo


class FirstRunDialog(FormDialog):
    """The first start: the demo, or a new clinic in guided steps.

    Accepted with `choice` DEMO (the caller opens the demo) or CREATED (clinic made; `actor`
    is its first Full Access user, signed in). The steps: the clinic, its first location, your
    account (the clinic is created, in one transaction, when this step is done), then the
    optional set-up (payments, messaging, central database; views.setup_steps).
    """

    STEP_TITLES = ("Your clinic", "First location", "Your account")

    def __init__(
        self,
        services: Services,
        tasks: TaskRunner,
        config: Config,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._tasks = tasks
        self._config = config
        self.choice: FirstRunChoice | None = None
        self.created_username = ""
        self.actor: Actor | None = None
        self.view_ctx: ViewContext | None = None
        self.setWindowTitle("Welcome — Front Desk")
        self.setMinimumWidth(580)
        # Pages in one layout, one shown at a time: the dialog takes the size of the page
        # shown (a QStackedWidget would keep the height of the tallest).
        self.choice_page = self._choice_page()
        self.clinic_page = self._clinic_page()
        self.location_page = self._location_page()
        self.account_page = self._account_page()
        self.optional_page = OptionalSetupPage()
        self.optional_page.finished.connect(self.accept)
        self.finish_button = self.optional_page.finish_button
        self.pages = [self.choice_page, self.clinic_page, self.location_page, self.account_page,
                      self.optional_page]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        for page in self.pages:
            layout.addWidget(page)
            page.setVisible(page is self.choice_page)

    # -- the choice --------------------------------------------------------------------

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
            muted(
                "Explore with made-up patients, staff, appointments and invoices. Nothing you do "
                "there touches real data, and you can set up your own clinic later."
            )
        )
        layout.addSpacing(12)
        layout.addWidget(self.setup_button)
        layout.addWidget(
            muted(
                "Three short steps: your clinic, its first location and your own Full Access "
                "account. Card payments and the rest can follow now or later."
            )
        )
        layout.addSpacing(16)
        layout.addStretch(1)
        layout.addLayout(_buttons(None, self.quit_button))
        return page

    def _choose_demo(self) -> None:
        self.choice = FirstRunChoice.DEMO
        self.accept()

    def show_setup(self) -> None:
        self.show_page(self.clinic_page)

    def show_choice(self) -> None:
        self.show_page(self.choice_page)

    def show_page(self, page: QWidget) -> None:
        for each in self.pages:
            each.setVisible(each is page)
        first = {
            self.choice_page: self.setup_button,
            self.clinic_page: self.clinic_name,
            self.location_page: self.location_name,
            self.account_page: self.first_name,
            self.optional_page: self.finish_button,
        }[page]
        first.setFocus(Qt.FocusReason.OtherFocusReason)
        self.adjustSize()
        self.fit_height()

    def current_page(self) -> QWidget:
        return next(page for page in self.pages if not page.isHidden())

    # -- step 1: the clinic ----------------------------------------------------------------

    def _clinic_page(self) -> QWidget:
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
        self.clinic_phone = QLineEdit()
        self.clinic_email = QLineEdit()
        self.clinic_address = QPlainTextEdit()
        self.clinic_address.setTabChangesFocus(True)
        self.clinic_address.setFixedHeight(64)

        self.clinic_form = FieldForm()
        add = self.clinic_form.add
        add("Clinic name:", self.clinic_name, "clinic name")
        add("Time zone:", self.time_zone, "time_zone")
        add("Currency:", self.currency, "currency", hint="It cannot change once you bill.")
        add("Phone:", self.clinic_phone, "clinic_phone")
        add("Email:", self.clinic_email, "clinic_email")
        add("Address:", self.clinic_address, "clinic_address",
            hint="Printed on receipts, with the phone and email.")
        self.clinic_next = push_button("Next", primary=True)
        self.clinic_next.clicked.connect(self.clinic_done)
        self.clinic_back = push_button("Back")
        self.clinic_back.clicked.connect(self.show_choice)
        return self._step_page(0, "Its name and details as patients will see them on receipts.",
                               self.clinic_form, self.clinic_back, self.clinic_next)

    def clinic_details(self) -> ClinicDetails:
        return ClinicDetails(
            clinic_name=self.clinic_name.text(),
            time_zone=self.time_zone.currentText().strip(),
            currency=self.currency.currentText(),
            phone=self.clinic_phone.text(),
            email=self.clinic_email.text(),
            address=self.clinic_address.toPlainText(),
        )

    def clinic_done(self) -> None:
        if self._checked(self.clinic_form, lambda: check_clinic_details(self.clinic_details())):
            self.show_page(self.location_page)

    # -- step 2: the first location -----------------------------------------------------------

    def _location_page(self) -> QWidget:
        self.location_name = QLineEdit()
        self.location_name.setPlaceholderText("for example, Main Street")
        self.location_address = QPlainTextEdit()
        self.location_address.setTabChangesFocus(True)
        self.location_address.setFixedHeight(64)
        self.location_phone = QLineEdit()
        self.location_form = FieldForm()
        add = self.location_form.add
        add("Location name:", self.location_name, "location name")
        add("Address:", self.location_address, "location_address",
            hint="Leave empty if it is the clinic's address.")
        add("Phone:", self.location_phone, "location_phone")
        self.location_next = push_button("Next", primary=True)
        self.location_next.clicked.connect(self.location_done)
        self.location_back = push_button("Back")
        self.location_back.clicked.connect(lambda: self.show_page(self.clinic_page))
        return self._step_page(1, "Where the clinic sees patients. You can add more locations "
                               "later in Clinic ▸ Settings.", self.location_form,
                               self.location_back, self.location_next)

    def first_location(self) -> FirstLocation:
        return FirstLocation(
            location_name=self.location_name.text(),
            location_address=self.location_address.toPlainText(),
            location_phone=self.location_phone.text(),
        )

    def location_done(self) -> None:
        if self._checked(self.location_form, lambda: check_location(self.first_location())):
            self.show_page(self.account_page)

    # -- step 3: your account; the clinic is created ----------------------------------------

    def _account_page(self) -> QWidget:
        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.account_form = FieldForm()
        add = self.account_form.add
        add("Your first name:", self.first_name, "first name")
        add("Your last name:", self.last_name, "last name")
        add("Username:", self.username, "username",
            hint="3 to 40 letters, digits, dots, dashes or underscores.")
        add("Password:", self.password, "password", hint="At least 8 characters.")
        add("Confirm password:", self.confirm, "confirm")
        self.error = form_error_label()
        self.back_button = push_button("Back")
        self.back_button.clicked.connect(lambda: self.show_page(self.location_page))
        self.create_button = push_button("Create clinic", primary=True)
        self.create_button.clicked.connect(self.submit)
        return self._step_page(2, "You will have Full Access: you can add staff and change "
                               "every setting.", self.account_form, self.back_button,
                               self.create_button, error=self.error)

    def first_user(self) -> FirstUser:
        return FirstUser(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            username=self.username.text(),
            password=self.password.text(),
        )

    def submit(self) -> None:
        if not self.create_button.isEnabled():
            return
        self._clear_errors()
        if self.password.text() != self.confirm.text():
            self.account_form.show_error("confirm",
                                         "The two passwords do not match; type them again.")
            return
        details, location, user = self.clinic_details(), self.first_location(), self.first_user()
        self._set_busy(True)
        services, config = self._services, self._config

        def create() -> Created:
            create_clinic(services.db, workstation=config.workstation, **vars(details),
                          **vars(location), **vars(user))
            save_config(config)
            actor = services.auth.sign_in(user.username, user.password, config.workstation)
            return Created(actor, services.clinic.info(actor))

        self._tasks.db(create, self._created, self._failed, owner=self)

    def _set_busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.back_button.setEnabled(not busy)
        label = "Creating…" if busy else "Create clinic"
        self.create_button.setText(label)
        name(self.create_button, label)

    def _created(self, created: Created) -> None:
        self._set_busy(False)
        self.choice = FirstRunChoice.CREATED
        self.actor = created.actor
        self.created_username = user_name(self.username.text())
        self.view_ctx = ViewContext(services=self._services, actor=created.actor,
                                    tasks=self._tasks, clinic=created.clinic)
        self.optional_page.set_context(self.view_ctx)
        self.show_page(self.optional_page)

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        for page, form in ((self.clinic_page, self.clinic_form),
                           (self.location_page, self.location_form)):
            if isinstance(error, ValidationError) and form.knows(error.field):
                self.show_page(page)
                form.show_refusal(error, self.error)
                return
        if not self.account_form.show_refusal(error, self.error):
            self._tasks.default_failure(error)

    # -- shared ---------------------------------------------------------------------------

    def _step_page(self, index: int, subtitle: str, form: FieldForm, back: QPushButton,
                   forward: QPushButton, error: QLabel | None = None) -> QWidget:
        page = QWidget()
        steps = len(self.STEP_TITLES)
        header = DialogHeader(f"{self.STEP_TITLES[index]}",
                              f"Step {index + 1} of {steps}. {subtitle}")
        forward.setDefault(True)
        forward.setAutoDefault(True)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(header)
        layout.addLayout(form.layout)
        if error is not None:
            layout.addWidget(error)
        layout.addStretch(1)
        layout.addLayout(_buttons(back, forward))
        return page

    def _checked(self, form: FieldForm, check: Callable[[], object]) -> bool:
        """Run a step's check; show what to change under its field. True when it passed."""
        form.clear_errors()
        try:
            check()
        except ValidationError as error:
            form.show_refusal(error, self.error)
            return False
        return True

    def _clear_errors(self) -> None:
        for form in (self.clinic_form, self.location_form, self.account_form):
            form.clear_errors()
        self.error.hide()


def user_name(typed: str) -> str:
    return typed.strip().lower()


def _buttons(back: QPushButton | None, forward: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    if back is not None:
        row.addWidget(back)
    row.addStretch(1)
    row.addWidget(forward)
    return row
