"""Booking a visit: who, what, where and when, in the clinic's own local time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import QComboBox, QDateEdit, QLabel, QTimeEdit, QWidget

from desk_app.models.enums import AppointmentKind
from desk_app.services.appointments import BookingOptions, Choice
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.participants_picker import FindPatients, ParticipantsPicker

#: Appointment times are offered on this grid (minutes).
STEP_MINUTES = 15


@dataclass(frozen=True, slots=True)
class BookingRequest:
    practitioner_id: uuid.UUID
    treatment_type_id: uuid.UUID
    location_id: uuid.UUID
    starts_local: datetime  # naive, wall-clock time at the clinic
    kind: AppointmentKind = AppointmentKind.INDIVIDUAL
    others: tuple[uuid.UUID, ...] = ()  # a group's or class's other participants

_KINDS = (
    (AppointmentKind.INDIVIDUAL, "Individual"),
    (AppointmentKind.GROUP, "Group appointment"),
    (AppointmentKind.CLASS, "Class booking"),
)


def next_slot(now_local: datetime) -> datetime:
    """The next time on the booking grid after `now_local` (naive clinic time)."""
    base = now_local.replace(second=0, microsecond=0)
    minutes = STEP_MINUTES - base.minute % STEP_MINUTES
    return base + timedelta(minutes=minutes)


class BookAppointmentDialog(ActionDialog):
    def __init__(
        self,
        patient_name: str,
        options: BookingOptions,
        now_local: datetime,
        parent: QWidget | None = None,
        *,
        patient_id: uuid.UUID | None = None,
        find_patients: FindPatients | None = None,
    ) -> None:
        city = options.time_zone.rsplit("/", 1)[-1].replace("_", " ")
        subtitle = f"{patient_name} · date and time at the clinic ({city} time)"
        super().__init__("Book an appointment", "Book appointment", subtitle, parent)
        self.setMinimumWidth(560)
        self.patient_name = patient_name
        self.kind = QComboBox()
        for kind, label in _KINDS:
            self.kind.addItem(label, kind.value)
        self.add_field("Appointment type", self.kind, field="kind")
        self.kind_hint = QLabel()
        self.kind_hint.setObjectName("kindHint")
        self.kind_hint.setWordWrap(True)
        self.kind_hint.setStyleSheet("color: #52646b;")
        self.form.addRow("", self.kind_hint)
        self.participants: ParticipantsPicker | None = None
        self._participants_row: QWidget | None = None
        if find_patients is not None and patient_id is not None:
            self.participants = ParticipantsPicker(find_patients, patient_id)
            self._participants_row = self.add_field("Other participants", self.participants,
                                                    field="participants")
            self.participants.changed.connect(lambda: self.show_field_error("participants", ""))
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.practitioner = _combo(options.practitioners)
        self.first_input = self.practitioner
        self.add_field("Practitioner", self.practitioner, field="practitioner")
        self.treatment = _combo(options.treatments)
        self.add_field("Treatment", self.treatment, field="treatment")
        self.location = _combo(options.locations)
        self.add_field("Location", self.location, field="location")

        start = next_slot(now_local)
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd MMM d, yyyy")
        self.date.setMinimumDate(_qdate(now_local.date()))
        self.date.setDate(_qdate(start.date()))
        self.add_field("Date", self.date, field="date")
        self.time = QTimeEdit()
        self.time.setDisplayFormat("h:mm AP")
        self.time.setTime(QTime(start.hour, start.minute))
        self.add_field("Time", self.time, field="time")
        self.kind.setEnabled(self.participants is not None)
        self._kind_changed()

    def chosen_kind(self) -> AppointmentKind:
        return AppointmentKind(self.kind.currentData())

    def set_kind(self, kind: AppointmentKind) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind.value))

    def _kind_changed(self) -> None:
        kind = self.chosen_kind()
        party = kind is not AppointmentKind.INDIVIDUAL
        if self._participants_row is not None:
            self.form.setRowVisible(self._participants_row, party)
        name = self.patient_name or "This patient"
        self.kind_hint.setText({
            AppointmentKind.INDIVIDUAL: "",
            AppointmentKind.GROUP: f"{name} is the primary client: the group visit is "
                                   "invoiced to them, and only their package can pay for it.",
            AppointmentKind.CLASS: f"{name} and each participant are invoiced for their own "
                                   "place, and each one's own package pays for it.",
        }[kind])
        self.form.setRowVisible(self.kind_hint, party)
        self.adjustSize()

    def set_start(self, day: date, at: time) -> None:
        self.date.setDate(_qdate(day))
        self.time.setTime(QTime(at.hour, at.minute))

    def collect(self) -> BookingRequest | None:
        chosen = {
            "practitioner": self.practitioner.currentData(),
            "treatment": self.treatment.currentData(),
            "location": self.location.currentData(),
        }
        for field, value in chosen.items():
            if not isinstance(value, uuid.UUID):
                self.show_field_error(field, f"Choose a {field}.")
                return None
        kind = self.chosen_kind()
        others: tuple[uuid.UUID, ...] = ()
        if kind is not AppointmentKind.INDIVIDUAL:
            others = self.participants.participant_ids() if self.participants else ()
            if not others:
                what = "group" if kind is AppointmentKind.GROUP else "class"
                self.show_field_error("participants",
                                      f"Add at least one other participant to the {what}.")
                return None
        day = self.date.date()
        at = self.time.time()
        starts = datetime(day.year(), day.month(), day.day(), at.hour(), at.minute())
        return BookingRequest(
            chosen["practitioner"], chosen["treatment"], chosen["location"], starts, kind, others
        )


def _combo(choices: list[Choice]) -> QComboBox:
    combo = QComboBox()
    for choice in choices:
        combo.addItem(choice.label, choice.id)
    return combo


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
