"""Booking a visit: who, what, where and when, in the clinic's own local time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import QComboBox, QDateEdit, QTimeEdit, QWidget

from desk_app.services.appointments import BookingOptions, Choice
from desk_app.views.profile.action_dialog import ActionDialog

#: Appointment times are offered on this grid (minutes).
STEP_MINUTES = 15


@dataclass(frozen=True, slots=True)
class BookingRequest:
    practitioner_id: uuid.UUID
    treatment_type_id: uuid.UUID
    location_id: uuid.UUID
    starts_local: datetime  # naive, wall-clock time at the clinic


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
    ) -> None:
        city = options.time_zone.rsplit("/", 1)[-1].replace("_", " ")
        subtitle = f"{patient_name} · date and time at the clinic ({city} time)"
        super().__init__("Book an appointment", "Book appointment", subtitle, parent)
        self.setMinimumWidth(520)
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
        day = self.date.date()
        at = self.time.time()
        starts = datetime(day.year(), day.month(), day.day(), at.hour(), at.minute())
        return BookingRequest(
            chosen["practitioner"], chosen["treatment"], chosen["location"], starts
        )


def _combo(choices: list[Choice]) -> QComboBox:
    combo = QComboBox()
    for choice in choices:
        combo.addItem(choice.label, choice.id)
    return combo


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
