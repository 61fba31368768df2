"""The patients this staff member opened most recently, one click from opening again."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desk_app.services.patients import PatientSummary
from desk_app.views.patient_list import PatientListModel, patient_list_view
from desk_app.views.view_context import ViewContext

TITLE = "Recent patients"
EMPTY_TEXT = "Patients you open appear here."


class RecentPatients(QWidget):
    """Emits `patient_chosen(id)`; call `reload()` after a profile is opened."""

    patient_chosen = Signal(object)
    loaded = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.model = PatientListModel(self)
        self.list = patient_list_view(TITLE, self.model)
        self.list.activated.connect(self._open)
        self.list.clicked.connect(self._open)
        title = QLabel(TITLE)
        title.setObjectName("sectionTitle")
        title.setIndent(0)
        title.setBuddy(self.list)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 0)
        layout.addStretch(1)  # keeps the "appear here" line at the top while the list is empty
        self._layout = layout
        self.list.hide()

    def reload(self) -> None:
        patients, actor = self._ctx.services.patients, self._ctx.actor
        self._ctx.tasks.db(lambda: patients.recent(actor), self._loaded, owner=self)

    def names(self) -> list[str]:
        return self.model.names()

    def _loaded(self, recent: list[PatientSummary]) -> None:
        self.model.set_patients(recent)
        self.list.setVisible(bool(recent))
        self.empty.setVisible(not recent)
        self._layout.setStretch(2, 1 if recent else 0)
        self._layout.setStretch(3, 0 if recent else 1)
        self.loaded.emit()

    def _open(self, index: QModelIndex) -> None:
        patient_id = self.model.patient_id(index.row())
        if patient_id is not None:
            self.patient_chosen.emit(patient_id)
