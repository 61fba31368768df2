"""Membership charges that failed, for the front desk to act on: open the patient (take
payment or send a pay-balance link there), or dismiss the notice once it is dealt with."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from desk_app.services.clock import to_clinic_time
from desk_app.services.memberships import NoticeRow
from desk_app.views.forms import DialogHeader, FormDialog, push_button
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table, selected_row
from desk_app.views.view_context import ViewContext


class NoticesModel(RowTableModel[NoticeRow]):
    WHEN, WHAT = range(2)
    HEADERS = ("When", "What happened")

    def __init__(self, time_zone: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = time_zone

    def cell(self, row: NoticeRow, column: int) -> str:
        if column == self.WHEN:
            return f"{to_clinic_time(row.created_at, self._zone):%Y-%m-%d %H:%M}"
        return row.message if column == self.WHAT else ""


class FailedChargesDialog(FormDialog):
    """Emits `open_patient(uuid)` and `changed(int)` (how many notices are left)."""

    open_patient = Signal(object)
    changed = Signal(int)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Failed membership charges — Front Desk")
        self.setMinimumSize(1040, 380)
        self.model = NoticesModel(ctx.clinic.time_zone, self)
        self.table = profile_table(
            "Failed membership charges", self.model,
            {NoticesModel.WHEN: "2026-11-21 14:05"}, stretch=NoticesModel.WHAT,
        )
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.banner = StatusBanner(self)
        self.open_button = push_button("Open patient", primary=True)
        self.open_button.clicked.connect(self._open_patient)
        self.dismiss_button = push_button("Dismiss")
        self.dismiss_button.clicked.connect(self.dismiss)
        self.close_button = push_button("Close")
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.dismiss_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(DialogHeader(
            "Failed membership charges",
            "Open the patient to take payment or send a pay-balance link, then dismiss the "
            "notice.",
        ))
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_actions()
        self.reload()

    def reload(self) -> None:
        memberships, actor = self._ctx.services.memberships, self._ctx.actor
        self._ctx.tasks.db(lambda: memberships.notices(actor), self._loaded, self._failed,
                           owner=self)

    def _loaded(self, rows: list[NoticeRow]) -> None:
        self.model.set_rows(rows)
        if rows:
            self.table.selectRow(0)
        self._update_actions()
        self.changed.emit(len(rows))

    def _failed(self, error: BaseException) -> None:
        self.banner.show_error(message_for(error))

    def selected(self) -> NoticeRow | None:
        index = selected_row(self.table)
        return None if index is None else self.model.row_at(index)

    def _update_actions(self) -> None:
        notice = self.selected()
        self.open_button.setEnabled(notice is not None and notice.patient_id is not None)
        self.dismiss_button.setEnabled(notice is not None)

    def _open_patient(self) -> None:
        notice = self.selected()
        if notice is not None and notice.patient_id is not None:
            patient: uuid.UUID = notice.patient_id
            self.open_patient.emit(patient)

    def dismiss(self) -> None:
        notice = self.selected()
        if notice is None:
            return
        memberships, actor = self._ctx.services.memberships, self._ctx.actor
        self._ctx.tasks.db(lambda: memberships.dismiss(actor, notice.id),
                           lambda _none: self.reload(), self._failed, owner=self)
