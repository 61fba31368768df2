"""Choosing the period a statement or superbill covers: From and To, clinic days included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QWidget

from desk_app.views.profile.action_dialog import ActionDialog


@dataclass(frozen=True, slots=True)
class PeriodRequest:
    start: date
    end: date


def date_edit(day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("MMM d, yyyy")
    edit.setMinimumWidth(150)
    return edit


class PeriodDialog(ActionDialog):
    """Submits a PeriodRequest; the document is built by the caller."""

    def __init__(
        self,
        title: str,
        action_label: str,
        subtitle: str,
        start: date,
        end: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, action_label, subtitle, parent)
        self.start = date_edit(start)
        self.end = date_edit(end)
        self.add_field("From:", self.start)
        self.add_field("To:", self.end, "period")
        self.first_input = self.start

    def collect(self) -> PeriodRequest | None:
        self.clear_errors()
        start = self.start.date().toPython()
        end = self.end.date().toPython()
        assert isinstance(start, date) and isinstance(end, date)
        if start > end:
            self.show_field_error("period", "The From date is after the To date; swap them.")
            return None
        return PeriodRequest(start, end)
