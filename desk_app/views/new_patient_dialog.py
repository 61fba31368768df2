"""Adding a patient: names, birth date and how to reach them; problems shown by the field."""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from desk_app.services.patient_input import PatientInput
from desk_app.services.patients import PatientDetails
from desk_app.views.a11y import name
from desk_app.views.forms import (
    DialogHeader,
    FieldForm,
    FormDialog,
    cancel_and_save,
    form_error_label,
)
from desk_app.views.view_context import ViewContext

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
DATE_FORMAT_MESSAGE = (
    "Type the date of birth as year-month-day, for example 1985-03-14, or leave it empty."
)


class DateFormatError(ValueError):
    pass


def parse_birth_date(text: str) -> date | None:
    """Year first, so 04/03/1985 can never be read the wrong way round."""
    text = text.strip()
    if not text:
        return None
    match = _ISO_DATE.match(text)
    if match is None:
        raise DateFormatError(DATE_FORMAT_MESSAGE)
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise DateFormatError(f"{text} is not a real date; check the month and day.") from None


class NewPatientDialog(FormDialog):
    """Accepted once the patient is saved; `patient` then holds what the service stored."""

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.patient: PatientDetails | None = None
        self.setWindowTitle("New patient — Front Desk")
        self.setMinimumWidth(520)

        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.preferred_name = QLineEdit()
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("YYYY-MM-DD (optional)")
        self.mobile_phone = QLineEdit()
        self.mobile_phone.setPlaceholderText("for example 416-555-0123")
        self.email = QLineEdit()
        self.email.setPlaceholderText("name@example.com")

        self.form = FieldForm()
        add = self.form.add
        add("Legal first name:", self.first_name, "legal_first_name")
        add("Legal last name:", self.last_name, "legal_last_name")
        add(
            "Preferred name:",
            self.preferred_name,
            "preferred_name",
            hint="What they like to be called, if not their legal first name.",
        )
        add("Date of birth:", self.date_of_birth, "date_of_birth")
        add("Mobile phone:", self.mobile_phone, "mobile_phone")
        add("Email:", self.email, "email")
        self.error = form_error_label()

        buttons, self.cancel_button, self.save_button = cancel_and_save(
            self, self.submit, "Add patient")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(
            DialogHeader(
                "New patient",
                "Only the legal first and last name are required; you can add the rest later.",
            )
        )
        layout.addLayout(self.form.layout)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.first_name.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        if not self.save_button.isEnabled():
            return
        self.form.clear_errors()
        self.error.hide()
        try:
            dob = parse_birth_date(self.date_of_birth.text())
        except DateFormatError as exc:
            self.form.show_error("date_of_birth", str(exc))
            return
        data = PatientInput(
            legal_first_name=self.first_name.text(),
            legal_last_name=self.last_name.text(),
            preferred_name=self.preferred_name.text(),
            date_of_birth=dob,
            mobile_phone=self.mobile_phone.text(),
            email=self.email.text(),
        )
        self._set_busy(True)
        patients, actor = self._ctx.services.patients, self._ctx.actor
        self._ctx.tasks.db(
            lambda: patients.create(actor, data), self._saved, self._failed, owner=self
        )

    def error_text(self, field: str) -> str:
        return self.form.error_text(field)

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        label = "Adding…" if busy else "Add patient"
        self.save_button.setText(label)
        name(self.save_button, label)

    def _saved(self, patient: PatientDetails) -> None:
        self._set_busy(False)
        self.patient = patient
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        if not self.form.show_refusal(error, self.error):
            self._ctx.tasks.default_failure(error)
