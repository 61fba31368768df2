"""Book again: copies of selected past appointments into the future, and the warning shown
before the copies would use up package uses (services/appointment_copies.py)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDateEdit,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.appointment_copies import MAX_COPIES, MAX_WEEKS, CopyPlan, CopyRequest
from desk_app.services.appointments import AppointmentRow
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.formats import clock_text, day_text


class BookAgainDialog(ActionDialog):
    """Collects a CopyRequest: every N weeks or from a date, how many; the practitioner,
    treatment, location, time and participants of each selected visit are kept."""

    def __init__(self, patient_id: uuid.UUID, patient_name: str, rows: list[AppointmentRow],
                 today: date, parent: QWidget | None = None) -> None:
        n = len(rows)
        super().__init__("Book again", "Book copies…",
                         f"{patient_name} · {n} appointment{'s' if n != 1 else ''} to copy; "
                         "practitioner, treatment, location and time are kept", parent)
        self.setMinimumWidth(540)
        self.patient_id = patient_id
        self.source_ids = tuple(r.id for r in rows)
        listing = QLabel("\n".join(
            f"• {r.treatment} with {r.practitioner}, {r.starts_at:%a} "
            f"{clock_text(r.starts_at)} (last on {day_text(r.starts_at.date())})"
            for r in rows[:6]) + (f"\n• … and {n - 6} more" if n > 6 else ""))
        listing.setObjectName("copySources")
        listing.setWordWrap(True)
        self.body.insertWidget(0, listing)

        self.every_weeks_mode = QRadioButton("Every N weeks, from the last visit")
        self.on_date_mode = QRadioButton("Starting on a date")
        for button in (self.every_weeks_mode, self.on_date_mode):
            a11y.button_named(button)
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.every_weeks_mode)
        self.modes.addButton(self.on_date_mode)
        self.every_weeks_mode.setChecked(True)
        modes = QWidget()
        column = QVBoxLayout(modes)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(6)
        column.addWidget(self.every_weeks_mode)
        column.addWidget(self.on_date_mode)
        self.add_field("Repeat", modes, field="mode")
        self.first_on = QDateEdit()
        self.first_on.setCalendarPopup(True)
        self.first_on.setDisplayFormat("ddd MMM d, yyyy")
        tomorrow = today + timedelta(days=1)
        self.first_on.setMinimumDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        self.first_on.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        self.add_field("First date", self.first_on, field="date")
        self.every_weeks = QSpinBox()
        self.every_weeks.setRange(1, MAX_WEEKS)
        self.every_weeks.setValue(1)
        self.every_weeks.setSuffix(" week(s)")
        self.add_field("Every", self.every_weeks, field="every_weeks")
        self.count = QSpinBox()
        self.count.setRange(1, MAX_COPIES)
        self.count.setValue(4)
        self.add_field("How many", self.count, field="count")
        self.first_input = self.count
        self.on_date_mode.toggled.connect(self.first_on.setEnabled)
        self.first_on.setEnabled(False)

    def collect(self) -> CopyRequest | None:
        first_on = None
        if self.on_date_mode.isChecked():
            d = self.first_on.date()
            first_on = date(d.year(), d.month(), d.day())
        return CopyRequest(self.patient_id, self.source_ids, self.count.value(),
                           self.every_weeks.value(), first_on)


class PackageUseWarningDialog(ActionDialog):
    """Before copies would silently use packages: which, how many uses, how many are left.
    Book anyway (``submitted(True)``), Book without using packages (``submitted(False)``) or
    Cancel."""

    def __init__(self, plan: CopyPlan, parent: QWidget | None = None) -> None:
        super().__init__("Packages would be used", "Book anyway", parent=parent)
        self.setMinimumWidth(600)
        self.plan = plan
        warning = QLabel(plan.warning)
        warning.setObjectName("packageWarning")
        warning.setWordWrap(True)
        warning.setStyleSheet(
            "QLabel { color: #7a4b00; background: #fff6e0; border: 1px solid #f0d48a;"
            " border-radius: 5px; padding: 8px 10px; font-weight: 600; }")
        self.body.insertWidget(0, warning)
        table = QTableWidget(len(plan.visits), 3)
        a11y.name(table, "Visits to book")
        table.setHorizontalHeaderLabels(["When", "Treatment", "Paid by"])
        table.verticalHeader().setVisible(False)
        a11y.name(table.verticalHeader(), "Visits to book rows")
        a11y.name(table.horizontalHeader(), "Visits to book columns")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setShowGrid(False)
        table.setStyleSheet("QTableWidget::item { padding-left: 4px; padding-right: 10px; }")
        for i, visit in enumerate(plan.visits):
            when = visit.starts_local
            paid = ", ".join(p or "billed normally" for p in visit.packages)
            for column, text in enumerate((
                    f"{when:%a} {day_text(when.date())} {clock_text(when)}",
                    visit.treatment, paid)):
                item = QTableWidgetItem(text)
                if column == 2 and all(not p for p in visit.packages):
                    item.setForeground(Qt.GlobalColor.darkGray)
                table.setItem(i, column, item)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setMinimumHeight(min(260, 34 + 28 * max(len(plan.visits), 1)))
        label = a11y.labelled("Visits to book", table)
        self.body.insertWidget(1, label)
        self.body.insertWidget(2, table)
        self.without_button = QPushButton("Book without using packages")
        a11y.button_named(self.without_button)
        self.without_button.setAutoDefault(False)
        self.without_button.clicked.connect(self._without)
        self.buttons.insertWidget(1, self.without_button)

    def collect(self) -> bool:
        return True

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        if hasattr(self, "without_button"):
            self.without_button.setEnabled(not busy)

    def _without(self) -> None:
        self.error.clear_message()
        self.set_busy(True)
        self.submitted.emit(False)
