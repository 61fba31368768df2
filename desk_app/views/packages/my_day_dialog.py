"""A practitioner's "My day": today's appointments with each patient's package uses left and
balance, for reviewing between sessions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from desk_app.models.enums import Role
from desk_app.models.money import format_money
from desk_app.services.appointments import BookingOptions
from desk_app.services.package_reports import DayRow
from desk_app.views import a11y
from desk_app.views.forms import DialogHeader, FormDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.formats import clock_text
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.tab_parts import action_button
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table
from desk_app.views.view_context import ViewContext


class DayModel(RowTableModel[DayRow]):
    TIME, PATIENT, TREATMENT, PACKAGE, LEFT, OWING, CREDIT = range(7)
    HEADERS = ("Time", "Patient", "Treatment", "Package on visit", "Packages left", "Owing",
               "Credit")
    AMOUNT_COLUMNS = frozenset({OWING, CREDIT})

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def cell(self, row: DayRow, column: int) -> str:
        values = (clock_text(row.starts_at), row.patient, row.treatment, row.package or "—",
                  row.uses_left or "—", format_money(row.owing_cents, self.currency),
                  format_money(row.credit_cents, self.currency))
        return values[column] if 0 <= column < len(values) else ""


class MyDayDialog(FormDialog):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("My day — Front Desk")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(1040, 420)
        self.practitioner = QComboBox()
        self.model = DayModel(ctx.clinic.currency)
        self.table = profile_table("Today's appointments", self.model, {
            DayModel.TIME: "12:30 PM", DayModel.PATIENT: "Maddy Ødegård-Nguyễn",
            DayModel.TREATMENT: "Massage 60 min", DayModel.PACKAGE: "Massage 10-Visit Pass",
            DayModel.LEFT: "10 Massages: 10 left", DayModel.OWING: "$1,017.00",
            DayModel.CREDIT: "$1,017.00"},
            stretch=DayModel.LEFT)
        self.banner = StatusBanner(self)
        top = QHBoxLayout()
        top.addWidget(a11y.labelled("Practitioner", self.practitioner))
        top.addWidget(self.practitioner, 1)
        top.addWidget(action_button("Refresh", self.reload))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(DialogHeader("My day", "Today's appointments with each patient's "
                                      "package uses left and balance."))
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        a11y.name(self.practitioner.view(), "Practitioner choices")
        self.practitioner.currentIndexChanged.connect(lambda _i: self.reload())
        actor = ctx.actor
        ctx.tasks.db(lambda: ctx.services.appointments.booking_options(actor),
                     self._choices, lambda e: self.banner.show_error(message_for(e)),
                     owner=self)

    def _choices(self, options: BookingOptions) -> None:
        self.practitioner.blockSignals(True)
        for choice in options.practitioners:
            self.practitioner.addItem(choice.label, choice.id)
        # findData compares Python objects by identity: look for the equal id instead.
        mine = next((i for i in range(self.practitioner.count())
                     if self.practitioner.itemData(i) == self.ctx.actor.staff_id), -1)
        if self.ctx.actor.role is Role.PRACTITIONER and mine >= 0:
            self.practitioner.setCurrentIndex(mine)
            self.practitioner.setEnabled(False)
        self.practitioner.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        who = self.practitioner.currentData()
        if who is None:
            return
        actor, reports = self.ctx.actor, self.ctx.services.package_reports
        self.ctx.tasks.db(lambda: reports.my_day(actor, who), self.model.set_rows,
                          lambda e: self.banner.show_error(message_for(e)), owner=self)
