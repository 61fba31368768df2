"""The patient's details as an editable form: names, birth date, contact, billing, consents."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.patient_input import PatientInput
from desk_app.views import a11y
from desk_app.views.profile.birth_date import BirthDateError, birth_date_text, parse_birth_date
from desk_app.views.profile.form_rows import ShowError, add_row
from desk_app.views.profile.formats import age_on

#: (field, label, maximum length) for each line edit, in the order they appear per group.
_NAME_FIELDS = (
    ("legal_first_name", "Legal first name", 200),
    ("legal_last_name", "Legal last name", 200),
    ("preferred_name", "Preferred name", 200),
    ("pronouns", "Pronouns", 60),
)
_CONTACT_FIELDS = (
    ("mobile_phone", "Mobile phone", 32),
    ("home_phone", "Home phone", 32),
    ("email", "Email", 254),
)
_HOUSEHOLD_FIELDS = (
    ("household_contact_name", "Household contact name", 200),
    ("household_contact_email", "Household contact email", 254),
)
_BILL_TO_FIELDS = (
    ("bill_to_name", "Bill-to name", 200),
    ("bill_to_email", "Bill-to email", 254),
)
_CONSENTS = (
    ("consent_texts", "Consents to texts"),
    ("consent_emails", "Consents to emails"),
    ("marketing_opt_in", "Marketing opt-in"),
)
_PLACEHOLDERS = {
    "preferred_name": "What they like to be called",
    "pronouns": "e.g. she/her, they/them",
    "mobile_phone": "416-555-0123",
    "email": "name@example.com",
}

Snapshot = tuple[object, ...]


class ContactForm(QWidget):
    """Emits `edited` on every change; `data()` reads it back (None if the date is unreadable)."""

    edited = Signal()

    def __init__(self, show_pronouns: bool, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today
        self.edits: dict[str, QLineEdit] = {}
        self.checks: dict[str, QCheckBox] = {}
        self._errors: dict[str, ShowError] = {}
        self._rows: dict[str, QWidget] = {}

        left = self._column()
        self._title(left, "Name and birth date", first=True)
        for field, label, limit in _NAME_FIELDS:
            self._line(left, field, label, limit)
        self.birth_date = QLineEdit()
        self.birth_date.setPlaceholderText("YYYY-MM-DD, blank if unknown")
        self.birth_date.setMaxLength(10)
        self.birth_date.setMaximumWidth(230)
        self.age = QLabel()
        self.age.setObjectName("muted")
        self.age.setStyleSheet("color: #5b6b73;")
        birth = QWidget()
        birth_row = QHBoxLayout(birth)
        birth_row.setContentsMargins(0, 0, 0, 0)
        birth_row.setSpacing(10)
        birth_row.addWidget(self.birth_date, 1)
        birth_row.addWidget(self.age)
        birth_row.addStretch(0)
        _row, self._errors["date_of_birth"] = add_row(
            left, "Date of birth", birth, control=self.birth_date
        )
        self.birth_date.textChanged.connect(self._changed)
        # Hidden, not removed: the value is kept and saved back unchanged.
        left.setRowVisible(self._rows["pronouns"], show_pronouns)
        self._title(left, "Phone and email")
        for field, label, limit in _CONTACT_FIELDS:
            self._line(left, field, label, limit)

        right = self._column()
        self._title(right, "Household contact", first=True)
        for field, label, limit in _HOUSEHOLD_FIELDS:
            self._line(right, field, label, limit)
        self._title(right, "Bill to")
        for field, label, limit in _BILL_TO_FIELDS:
            self._line(right, field, label, limit)
        self._title(right, "Consents")
        for field, label in _CONSENTS:
            box = QCheckBox(label)
            a11y.button_named(box)
            box.toggled.connect(self._changed)
            self.checks[field] = box
            right.addRow(box)

        columns = QHBoxLayout(self)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(16)
        for form, stretch in ((left, 6), (right, 5)):
            card = QFrame()
            card.setObjectName("card")
            card.setStyleSheet(
                "QFrame#card { background: #ffffff; border: 1px solid #d5dde1;"
                " border-radius: 8px; }"
            )
            card.setLayout(form)
            holder = QVBoxLayout()
            holder.addWidget(card)
            holder.addStretch(1)
            columns.addLayout(holder, stretch)

    # ----- building ------------------------------------------------------------------------

    @staticmethod
    def _column() -> QFormLayout:
        form = QFormLayout()
        form.setContentsMargins(18, 14, 18, 16)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return form

    @staticmethod
    def _title(form: QFormLayout, text: str, first: bool = False) -> None:
        title = QLabel(text)
        title.setObjectName("sectionTitle")
        title.setStyleSheet("font-weight: 600; color: #15767a; background: transparent;")
        title.setContentsMargins(0, 0 if first else 10, 0, 0)
        title.setIndent(0)
        form.addRow(title)

    def _line(self, form: QFormLayout, field: str, label: str, limit: int) -> None:
        edit = QLineEdit()
        edit.setMaxLength(limit)
        edit.setPlaceholderText(_PLACEHOLDERS.get(field, ""))
        edit.textChanged.connect(self._changed)
        self.edits[field] = edit
        row, self._errors[field] = add_row(form, label, edit)
        self._rows[field] = row

    # ----- reading and writing -------------------------------------------------------------

    def set_data(self, data: PatientInput) -> None:
        for field, edit in self.edits.items():
            edit.setText(str(getattr(data, field)))
            edit.setCursorPosition(0)  # show the start of a long email, not its end
        for field, box in self.checks.items():
            box.setChecked(bool(getattr(data, field)))
        self.birth_date.setText(birth_date_text(data.date_of_birth))
        self.clear_errors()

    def snapshot(self) -> Snapshot:
        """Everything as typed, to tell whether anything changed since loading."""
        return (
            *(edit.text() for edit in self.edits.values()),
            self.birth_date.text().strip(),
            *(box.isChecked() for box in self.checks.values()),
        )

    def data(self) -> PatientInput | None:
        try:
            born = parse_birth_date(self.birth_date.text())
        except BirthDateError as exc:
            self.show_field_error("date_of_birth", str(exc))
            self.birth_date.setFocus()
            return None
        text = self.edits
        ticked = self.checks
        return PatientInput(
            legal_first_name=text["legal_first_name"].text(),
            legal_last_name=text["legal_last_name"].text(),
            preferred_name=text["preferred_name"].text(),
            pronouns=text["pronouns"].text(),
            date_of_birth=born,
            mobile_phone=text["mobile_phone"].text(),
            home_phone=text["home_phone"].text(),
            email=text["email"].text(),
            household_contact_name=text["household_contact_name"].text(),
            household_contact_email=text["household_contact_email"].text(),
            bill_to_name=text["bill_to_name"].text(),
            bill_to_email=text["bill_to_email"].text(),
            consent_texts=ticked["consent_texts"].isChecked(),
            consent_emails=ticked["consent_emails"].isChecked(),
            marketing_opt_in=ticked["marketing_opt_in"].isChecked(),
        )

    def show_field_error(self, field: str, message: str) -> bool:
        """Show `message` next to `field`; False if the form has no such field."""
        show = self._errors.get(field)
        if show is None:
            return False
        show(message)
        widget = self.edits.get(field) or (self.birth_date if field == "date_of_birth" else None)
        if widget is not None:
            widget.setFocus()
        return True

    def clear_errors(self) -> None:
        for show in self._errors.values():
            show("")

    def set_read_only(self, read_only: bool) -> None:
        for edit in (*self.edits.values(), self.birth_date):
            edit.setReadOnly(read_only)
        for box in self.checks.values():
            box.setEnabled(not read_only)

    def _changed(self) -> None:
        self._update_age()
        self.edited.emit()

    def _update_age(self) -> None:
        try:
            born = parse_birth_date(self.birth_date.text())
        except BirthDateError:
            born = None
        if born is None or born > self.today:
            self.age.setText("" if self.birth_date.text().strip() else "Unknown")
        else:
            self.age.setText(f"Age {age_on(born, self.today)}")
