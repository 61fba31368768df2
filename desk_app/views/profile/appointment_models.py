"""Item model for the Appointments tab's Upcoming and History tables."""

from __future__ import annotations

from desk_app.models.enums import AppointmentStatus
from desk_app.services.appointments import AppointmentRow
from desk_app.views.profile.formats import clock_text, day_text
from desk_app.views.profile.table_model import RowTableModel


class AppointmentsModel(RowTableModel[AppointmentRow]):
    """Times arrive already in the clinic's time zone (the service converts them)."""

    DATE, TIME, PRACTITIONER, TREATMENT, LOCATION, STATUS, INVOICE = range(7)
    HEADERS = ("Date", "Time", "Practitioner", "Treatment", "Location", "Status", "Invoice")

    def cell(self, row: AppointmentRow, column: int) -> str:
        if column == self.DATE:
            return f"{row.starts_at:%a} {day_text(row.starts_at.date())}"
        if column == self.TIME:
            return clock_text(row.starts_at)
        if column == self.PRACTITIONER:
            return row.practitioner
        if column == self.TREATMENT:
            if row.billed_to:
                return f"{row.treatment} · {row.party} (billed to {row.billed_to})"
            return f"{row.treatment} · {row.party}" if row.party else row.treatment
        if column == self.LOCATION:
            return row.location
        if column == self.STATUS:
            return row.status.label
        if column == self.INVOICE:
            return row.invoice_number or "—"
        return ""

    def is_muted(self, row: AppointmentRow) -> bool:
        return row.status == AppointmentStatus.CANCELLED
