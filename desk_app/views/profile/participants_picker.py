"""Choosing the other participants of a group or class: find a patient, add, remove."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from desk_app.services.patients import PatientSummary
from desk_app.views import a11y

#: Runs a patient search off the UI thread, then hands the matches to the callback.
FindPatients = Callable[[str, Callable[[list[PatientSummary]], None]], None]


class ParticipantsPicker(QWidget):
    #: A participant was added or removed.
    changed = Signal()

    def __init__(self, find: FindPatients, exclude: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._find = find
        self._exclude = exclude  # the patient whose profile this is (already on it)
        self.query = QLineEdit()
        self.query.setPlaceholderText("Name, phone or email")
        self.query.returnPressed.connect(self.search)
        self.find_button = QPushButton("Find")
        a11y.button_named(self.find_button)
        self.find_button.setAutoDefault(False)
        self.find_button.clicked.connect(self.search)
        self.matches = QListWidget()
        self.matches.setMaximumHeight(92)
        self.matches.itemDoubleClicked.connect(lambda _item: self.add_selected())
        self.add_button = QPushButton("Add participant")
        a11y.button_named(self.add_button)
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_selected)
        self.chosen = QListWidget()
        self.chosen.setMaximumHeight(92)
        self.remove_button = QPushButton("Remove participant")
        a11y.button_named(self.remove_button)
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.remove_selected)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.addWidget(a11y.labelled("Find a patient", self.query), 0, 0)
        grid.addWidget(a11y.labelled("Participants added", self.chosen), 0, 1)
        row = QGridLayout()
        row.addWidget(self.query, 0, 0)
        row.addWidget(self.find_button, 0, 1)
        grid.addLayout(row, 1, 0)
        grid.addWidget(self.chosen, 1, 1, 2, 1)
        grid.addWidget(self.matches, 2, 0)
        a11y.name(self.matches, "Matching patients")
        grid.addWidget(self.add_button, 3, 0, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.remove_button, 3, 1, Qt.AlignmentFlag.AlignLeft)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self._update()

    # ----- what the dialog reads -----------------------------------------------------------

    def participant_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(self.chosen.item(i).data(Qt.ItemDataRole.UserRole)
                     for i in range(self.chosen.count()))

    def add(self, patient_id: uuid.UUID, name: str) -> None:
        if patient_id == self._exclude or patient_id in self.participant_ids():
            return
        item = QListWidgetItem(name)
        item.setData(Qt.ItemDataRole.UserRole, patient_id)
        self.chosen.addItem(item)
        self.chosen.setCurrentItem(item)
        self._update()
        self.changed.emit()

    # ----- actions -------------------------------------------------------------------------

    def search(self) -> None:
        text = self.query.text().strip()
        if not text:
            return
        self.matches.clear()
        self.matches.addItem("Searching…")
        self._find(text, self.show_matches)

    def show_matches(self, found: list[PatientSummary]) -> None:
        self.matches.clear()
        for patient in found:
            if patient.id == self._exclude:
                continue
            born = f" · born {patient.date_of_birth:%Y-%m-%d}" if patient.date_of_birth else ""
            item = QListWidgetItem(f"{patient.display_name}{born}")
            item.setData(Qt.ItemDataRole.UserRole, patient.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, patient.display_name)
            self.matches.addItem(item)
        if self.matches.count() == 0:
            self.matches.addItem("No other patient matches.")
        else:
            self.matches.setCurrentRow(0)
        self._update()

    def add_selected(self) -> None:
        item = self.matches.currentItem()
        if item is None or not isinstance(item.data(Qt.ItemDataRole.UserRole), uuid.UUID):
            return
        self.add(item.data(Qt.ItemDataRole.UserRole), item.data(Qt.ItemDataRole.UserRole + 1))

    def remove_selected(self) -> None:
        row = self.chosen.currentRow()
        if row >= 0:
            self.chosen.takeItem(row)
            self.changed.emit()
        self._update()

    def _update(self) -> None:
        self.remove_button.setEnabled(self.chosen.count() > 0)

