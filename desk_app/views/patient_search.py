"""Type-ahead patient search: a debounced box, a results list, and the keyboard to open one.

Each search carries a request id; results of anything but the latest request are dropped,
so a slow answer to "ma" can never replace the answer to "mad".
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from desk_app.services.patient_access import sees_only_own_patients
from desk_app.services.patients import SEARCH_LIMIT, PatientSummary
from desk_app.views.a11y import name
from desk_app.views.patient_list import PatientListModel, patient_list_view
from desk_app.views.view_context import ViewContext

DEBOUNCE_MS = 150
PLACEHOLDER = "Search patients by name, phone, email or birth date"
IDLE_HINT = "Type part of a name, phone number, email or birth date (1985-03)."
#: What a practitioner, who sees only their own patients, reads instead.
OWN_IDLE_HINT = (
    "Your patients: type part of a name, phone number, email or birth date (1985-03)."
)


class PatientSearch(QWidget):
    """Emits `patient_chosen(id)` when a result is opened by Enter, click or double-click."""

    patient_chosen = Signal(object)
    results_changed = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._request_id = 0
        self._answered_id = 0
        self._open_on_arrival = False

        self.box = QLineEdit()
        self.box.setObjectName("searchBox")
        self.box.setPlaceholderText(PLACEHOLDER)
        self.box.setClearButtonEnabled(True)
        name(self.box, "Search patients")
        self.box.installEventFilter(self)

        self._own_only = sees_only_own_patients(ctx.actor)
        self.status = QLabel(OWN_IDLE_HINT if self._own_only else IDLE_HINT)
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)

        self.model = PatientListModel(self)
        self.results = patient_list_view("Search results", self.model)
        self.results.activated.connect(self._open_index)
        self.results.clicked.connect(self._open_index)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.box.textChanged.connect(self._typed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.box)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self.results.hide()  # until there is something to show

    # -- what callers use ------------------------------------------------------------------

    @property
    def settled(self) -> bool:
        """No search waiting on the debounce timer or on the database."""
        return not self._timer.isActive() and self._answered_id == self._request_id

    def set_query(self, text: str) -> None:
        self.box.setText(text)

    def focus_search(self) -> None:
        self.box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.box.selectAll()

    def refresh(self) -> None:
        """Search again for what is in the box (a patient was added or changed)."""
        if self.box.text().strip():
            self.search_now()

    def select_patient(self, patient_id: uuid.UUID) -> None:
        """Highlight `patient_id` among the results (if there), without opening anything."""
        for row, patient in enumerate(self.model.patients()):
            if patient.id == patient_id:
                self.results.selectionModel().setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                return

    @property
    def showing_results(self) -> bool:
        return not self.results.isHidden()

    def current_patient_id(self) -> uuid.UUID | None:
        return self.model.patient_id(self.results.currentIndex().row())

    # -- searching ---------------------------------------------------------------------------

    def _typed(self, text: str) -> None:
        if text.strip():
            self._timer.start()
            return
        # Cleared: forget any search in flight and show the hint straight away.
        self._timer.stop()
        self._request_id += 1
        self._answered_id = self._request_id
        self._show([], "")

    def search_now(self) -> None:
        self._timer.stop()
        query = self.box.text().strip()
        self._request_id += 1
        request_id = self._request_id
        if not query:
            self._answered_id = request_id
            self._show([], "")
            return
        service, actor = self._ctx.services.patients, self._ctx.actor
        self._ctx.tasks.db(
            lambda: service.search(actor, query),
            lambda found: self._arrived(request_id, query, found),
            lambda error: self._search_failed(request_id, error),
            owner=self,
        )

    def _arrived(self, request_id: int, query: str, found: list[PatientSummary]) -> None:
        if request_id != self._request_id:
            return  # an older query's answer: the box has moved on
        self._answered_id = request_id
        self._show(found, query)

    def _search_failed(self, request_id: int, error: BaseException) -> None:
        if request_id == self._request_id:
            self._answered_id = request_id
            self._show([], "")
        self._ctx.tasks.default_failure(error)

    def _show(self, found: list[PatientSummary], query: str) -> None:
        self.model.set_patients(found)
        if found:
            first = self.model.index(0, 0)
            self.results.selectionModel().setCurrentIndex(
                first, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self.status.setText(_status_text(query, len(found), own_only=self._own_only))
        self.results.setVisible(bool(query))
        self.results_changed.emit()
        if self._open_on_arrival:
            self._open_on_arrival = False
            self._open_index(self.model.index(0, 0))

    # -- keyboard --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.box and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._enter()
                return True
            if key == Qt.Key.Key_Escape and self.box.text():
                self.box.clear()
                return True
        return super().eventFilter(watched, event)

    def _move(self, step: int) -> None:
        rows = self.model.rowCount()
        if not rows:
            return
        current = self.results.currentIndex().row()
        row = 0 if current < 0 else max(0, min(rows - 1, current + step))
        self.results.selectionModel().setCurrentIndex(
            self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.results.scrollTo(self.model.index(row, 0))

    def open_top_match(self) -> None:
        """What Enter in the box does: open the highlighted result (searching first if needed)."""
        self._enter()

    def _enter(self) -> None:
        if not self.settled:
            # Enter typed faster than the debounce: search now, open the top match when it lands.
            self._open_on_arrival = True
            self.search_now()
            return
        index = self.results.currentIndex()
        self._open_index(index if index.isValid() else self.model.index(0, 0))

    def _open_index(self, index: QModelIndex) -> None:
        patient_id = self.model.patient_id(index.row()) if index.isValid() else None
        if patient_id is not None:
            self.patient_chosen.emit(patient_id)


def _status_text(query: str, count: int, *, own_only: bool = False) -> str:
    if not query:
        return OWN_IDLE_HINT if own_only else IDLE_HINT
    if count == 0 and own_only:
        return (
            f"None of your patients match “{query}”. You see the patients who have a visit "
            "with you; ask the front desk to book one for anyone else."
        )
    if count == 0:
        return f"No patients match “{query}”. Check the spelling, or add a new patient."
    if count >= SEARCH_LIMIT:
        return f"Showing the first {count} matches; type more to narrow them."
    return "1 patient" if count == 1 else f"{count} patients"
