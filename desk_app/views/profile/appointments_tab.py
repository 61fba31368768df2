"""The Appointments tab: upcoming and past visits, booking, marking them, invoicing a visit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QTableView, QVBoxLayout, QWidget

from desk_app.models.enums import AppointmentKind, AppointmentStatus
from desk_app.models.money import format_money
from desk_app.services.appointment_copies import CopiesBooked, CopyPlan, CopyRequest
from desk_app.services.appointments import AppointmentRow, BookingOptions, PatientAppointments
from desk_app.services.clock import clinic_today, to_clinic_time
from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.invoicing import InvoiceCreated
from desk_app.services.packages import VisitCoverage
from desk_app.services.patients import PatientSummary
from desk_app.services.permissions import Permission
from desk_app.views.profile.appointment_models import AppointmentsModel
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.book_again_dialog import BookAgainDialog, PackageUseWarningDialog
from desk_app.views.profile.book_appointment_dialog import BookAppointmentDialog, BookingRequest
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.formats import clock_text, day_text
from desk_app.views.profile.package_visit_panel import PackageVisitPanel
from desk_app.views.profile.tab_parts import TableTab, action_button, allow
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.view_context import ViewContext

_SAMPLES = {
    AppointmentsModel.DATE: "Wed Sep 30, 2026",
    AppointmentsModel.TIME: "12:30 PM",
    AppointmentsModel.PRACTITIONER: "Mireille Gauthier, DC",
    AppointmentsModel.LOCATION: "Riverside",
    AppointmentsModel.STATUS: "Cancelled",
    AppointmentsModel.INVOICE: "DESK10-00000",
}

_STATUS_DONE = {
    AppointmentStatus.ARRIVED: "marked arrived",
    AppointmentStatus.NO_SHOW: "marked as a no-show",
    AppointmentStatus.CANCELLED: "cancelled",
}


class AppointmentsTab(TableTab):
    #: A visit was invoiced: the balance changed (the profile reloads billing).
    invoiced = Signal(object)

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, patient_id, parent)
        self.appointments: PatientAppointments | None = None
        # Loaded when first shown, like Receipts: opening a profile reads only what it shows.
        self._stale = True

        self.upcoming = AppointmentsModel(self)
        self.history = AppointmentsModel(self)
        self.upcoming_table = profile_table(
            "Upcoming", self.upcoming, _SAMPLES, stretch=AppointmentsModel.TREATMENT
        )
        self.history_table = profile_table(
            "History", self.history, _SAMPLES, stretch=AppointmentsModel.TREATMENT
        )
        # Several past visits can be booked again at once (Ctrl/Shift-click).
        self.history_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        #: The Book again dialog, then the package warning, opened last (tests reach them).
        self.open_dialog: BookAgainDialog | PackageUseWarningDialog | None = None
        # One selection across both tables: choosing in one clears the other.
        self.upcoming_table.selectionModel().selectionChanged.connect(
            lambda *_: self._selected_in(self.upcoming_table, self.history_table)
        )
        self.history_table.selectionModel().selectionChanged.connect(
            lambda *_: self._selected_in(self.history_table, self.upcoming_table)
        )

        self.book_button = action_button("Book appointment…", self.open_book)
        self.book_button.setProperty("primary", True)
        self.arrived_button = action_button(
            "Mark arrived", lambda: self.set_status(AppointmentStatus.ARRIVED)
        )
        self.no_show_button = action_button(
            "Mark no-show", lambda: self.set_status(AppointmentStatus.NO_SHOW)
        )
        self.cancel_button = action_button(
            "Cancel appointment", lambda: self.set_status(AppointmentStatus.CANCELLED)
        )
        self.invoice_button = action_button("Invoice visit", self.invoice_visit)
        self.again_button = action_button("Book again…", self.open_book_again)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.book_button)
        buttons.addWidget(self.again_button)
        buttons.addSpacing(12)
        for button in (self.arrived_button, self.no_show_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.invoice_button)

        self.lay_out(
            buttons, [("Upcoming", self.upcoming_table, 2), ("History", self.history_table, 3)]
        )
        # Billing info of the selected visit: the package paying for it (views/profile/
        # package_visit_panel.py).
        self.package_panel = PackageVisitPanel(ctx, self, patient_id=patient_id)
        self.package_panel.changed.connect(self._package_changed)
        self.package_panel.failed.connect(self.banner.show_error)
        self.package_panel.receipt_ready.connect(self._show_package_receipt)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.package_panel)
        self._update_actions()

    # ----- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        self._stale = False
        actor, pid = self.ctx.actor, self.patient_id
        self.call(
            lambda: self.ctx.services.appointments.for_patient(actor, pid),
            self._loaded,
            "Appointments could not be loaded: ",
        )

    def _loaded(self, appointments: PatientAppointments) -> None:
        keep = self._row_to_select()
        self.appointments = appointments
        self.upcoming.set_rows(appointments.upcoming)
        self.history.set_rows(appointments.history)
        if keep is not None:
            select_id(self.upcoming_table, self.upcoming.rows, keep)
            select_id(self.history_table, self.history.rows, keep)
        self._update_actions()

    # ----- selection -----------------------------------------------------------------------

    def selected_appointment(self) -> AppointmentRow | None:
        for table, model in (
            (self.upcoming_table, self.upcoming),
            (self.history_table, self.history),
        ):
            row = selected_row(table)
            if row is not None:
                return model.row_at(row)
        return None

    def selected_id(self) -> uuid.UUID | None:
        chosen = self.selected_appointment()
        return None if chosen is None else chosen.id

    def selected_history(self) -> list[AppointmentRow]:
        """The past visits selected under History, oldest first."""
        rows = sorted(i.row() for i in self.history_table.selectionModel().selectedRows())
        found = (self.history.row_at(r) for r in reversed(rows))
        return [row for row in found if row is not None]

    def _selected_in(self, table: QTableView, other: QTableView) -> None:
        if selected_row(table) is not None:
            other.selectionModel().clearSelection()
        self._update_actions()

    def _update_actions(self) -> None:
        chosen = self.selected_appointment()
        panel = getattr(self, "package_panel", None)
        if panel is not None and (chosen.id if chosen else None) != panel.appointment_id:
            label = (f"{chosen.treatment} on {chosen.starts_at:%a} "
                     f"{day_text(chosen.starts_at.date())} at {clock_text(chosen.starts_at)}"
                     if chosen else "")
            panel.show_for(chosen.id if chosen else None, label)
        may_book = self.ctx.can(Permission.BOOK_APPOINTMENTS)
        may_invoice = self.ctx.can(Permission.CREATE_INVOICE)
        pick = "Select an appointment first."
        self.book_button.setEnabled(may_book)
        past = self.selected_history()
        if not may_book:
            allow(self.again_button, False, "You do not have permission to book appointments.")
        else:
            allow(self.again_button, bool(past),
                  "Select one or more past appointments under History first.")
        for button, status in (
            (self.arrived_button, AppointmentStatus.ARRIVED),
            (self.no_show_button, AppointmentStatus.NO_SHOW),
            (self.cancel_button, AppointmentStatus.CANCELLED),
        ):
            if not may_book:
                allow(button, False, "You do not have permission to book appointments.")
            elif chosen is None:
                allow(button, False, pick)
            elif chosen.status == status:
                allow(button, False, f"This appointment is already {status.label.lower()}.")
            elif status == AppointmentStatus.CANCELLED and chosen.invoice_number:
                allow(button, False, "This visit is invoiced; delete its invoice first.")
            else:
                allow(button, True, "")
        if not may_invoice:
            allow(self.invoice_button, False, "You do not have permission to create invoices.")
        elif chosen is None:
            allow(self.invoice_button, False, pick)
        elif chosen.invoice_number:
            allow(self.invoice_button, False, f"Already on invoice {chosen.invoice_number}.")
        elif chosen.billed_to:
            allow(self.invoice_button, False, f"A group visit is invoiced to its primary client, "
                                              f"{chosen.billed_to}.")
        elif chosen.status == AppointmentStatus.CANCELLED:
            allow(self.invoice_button, False, "A cancelled visit is not invoiced.")
        else:
            allow(self.invoice_button, True, "")

    # ----- actions -------------------------------------------------------------------------

    def open_book(self) -> None:
        actor = self.ctx.actor
        self.call(lambda: self.ctx.services.appointments.booking_options(actor), self._show_book)

    def _show_book(self, options: BookingOptions) -> None:
        now = self.ctx.services.db.clock.now()
        now_local = to_clinic_time(now, self.ctx.clinic.time_zone).replace(tzinfo=None)
        dialog = BookAppointmentDialog(self.patient_name, options, now_local, self,
                                       patient_id=self.patient_id,
                                       find_patients=self._find_patients)
        dialog.submitted.connect(lambda request: self._book(dialog, request))
        dialog.open()

    def _book(self, dialog: BookAppointmentDialog, request: BookingRequest) -> None:
        actor, pid, service = self.ctx.actor, self.patient_id, self.ctx.services.appointments
        when = request.starts_local
        what = dialog.treatment.currentText()
        who = dialog.practitioner.currentText()

        kind = {AppointmentKind.INDIVIDUAL: "", AppointmentKind.GROUP: "a group visit: ",
                AppointmentKind.CLASS: "a class: "}[request.kind]
        others = len(request.others)
        party = (f" ({others + 1} participants)" if others else "")

        def done(appointment_id: uuid.UUID) -> None:
            self._select_after_load = appointment_id
            booked = (
                f"Booked {kind}{what} with {who} on {when:%a} {day_text(when.date())} "
                f"at {clock_text(when)}{party}."
            )
            self.banner.show_success(booked)
            self.reload()
            if self.ctx.can(Permission.CREATE_INVOICE):
                self._auto_select_package(appointment_id, booked)

        self.submit(
            dialog,
            lambda: service.book(
                actor,
                pid,
                request.practitioner_id,
                request.treatment_type_id,
                request.location_id,
                request.starts_local,
                kind=request.kind,
                others=request.others,
            ),
            done,
        )

    def _find_patients(self, text: str,
                       show: Callable[[list[PatientSummary]], None]) -> None:
        """The booking dialog's participant search, on the database thread."""
        actor, patients = self.ctx.actor, self.ctx.services.patients
        self.ctx.tasks.db(lambda: patients.search(actor, text, 20), show,
                          lambda e: self.banner.show_error(message_for(e)), owner=self)

    def _auto_select_package(self, appointment_id: uuid.UUID, booked: str) -> None:
        """A package set to auto-select pays for the new visit when it can (Billing info)."""
        actor, packages = self.ctx.actor, self.ctx.services.packages

        def done(cover: VisitCoverage) -> None:
            if cover.sale_id is not None:
                self.banner.show_success(
                    f"{booked} {cover.package_name} pays for it (auto-selected): "
                    f"{cover.usage_text}."
                )
                self.package_panel.show_for(None)
                self.reload()

        self.ctx.tasks.db(lambda: packages.auto_redeem(actor, appointment_id), done,
                          lambda e: self.banner.show_error(message_for(e)), owner=self)

    def set_status(self, status: AppointmentStatus) -> None:
        chosen = self.selected_appointment()
        if chosen is None:
            return
        actor, service = self.ctx.actor, self.ctx.services.appointments
        when = f"{day_text(chosen.starts_at.date())} {clock_text(chosen.starts_at)}"

        def done(_none: None) -> None:
            self.banner.show_success(f"{chosen.treatment} on {when} {_STATUS_DONE[status]}.")
            self.reload()

        self.banner.clear_message()
        pid = self.patient_id
        self.ctx.tasks.db(
            lambda: service.set_status(actor, chosen.id, status, pid),
            done,
            self._refused,
            owner=self,
        )

    def invoice_visit(self) -> None:
        chosen = self.selected_appointment()
        if chosen is None:
            return
        actor, invoicing, pid = self.ctx.actor, self.ctx.services.invoicing, self.patient_id

        def done(created: InvoiceCreated) -> None:
            total = format_money(created.total_cents, self.ctx.clinic.currency)
            self.banner.show_success(
                f"Invoice {created.number} for {total} created for {chosen.treatment}."
            )
            self.reload()
            self.invoiced.emit(created)

        self.banner.clear_message()
        self.ctx.tasks.db(
            lambda: invoicing.invoice_appointment(actor, chosen.id, pid),
            done,
            self._refused,
            owner=self,
        )

    def _package_changed(self, message: str) -> None:
        self.banner.show_success(message)
        self.reload()
        self.invoiced.emit(None)  # a removed package may have deleted the visit's invoice

    def _show_package_receipt(self, document: PdfDocument) -> None:
        from desk_app.views.profile.document_dialog import DocumentDialog

        DocumentDialog(self.ctx, document, self.patient_id, self).open()

    def _refused(self, error: BaseException) -> None:
        self.banner.show_error(message_for(error))
        self.reload()

    # ----- book again ----------------------------------------------------------------------

    def open_book_again(self) -> None:
        rows = self.selected_history()
        if not rows:
            return
        today = clinic_today(self.ctx.services.db.clock, self.ctx.clinic.time_zone)
        dialog = BookAgainDialog(self.patient_id, self.patient_name, rows, today, self)
        dialog.submitted.connect(lambda request: self._plan_copies(dialog, request))
        dialog.open()
        self.open_dialog = dialog

    def _plan_copies(self, dialog: BookAgainDialog, request: CopyRequest) -> None:
        """First what the copies would do with packages; the warning when they would use any."""
        actor, copies = self.ctx.actor, self.ctx.services.appointment_copies
        use = self.ctx.can(Permission.CREATE_INVOICE)

        def planned(plan: CopyPlan) -> None:
            if plan.warning:
                self._warn_before_copies(request, plan)
            else:
                self.call(lambda: copies.book(actor, request, use_packages=use),
                          self._copies_booked)

        self.banner.clear_message()
        submit_from(self.ctx, self, dialog,
                    lambda: copies.plan(actor, request, use_packages=use), planned)

    def _warn_before_copies(self, request: CopyRequest, plan: CopyPlan) -> None:
        actor, copies = self.ctx.actor, self.ctx.services.appointment_copies
        warning = PackageUseWarningDialog(plan, self)
        warning.submitted.connect(lambda use: submit_from(
            self.ctx, self, warning,
            lambda: copies.book(actor, request, use_packages=bool(use)), self._copies_booked))
        warning.open()
        self.open_dialog = warning

    def _copies_booked(self, booked: CopiesBooked) -> None:
        if booked.appointment_ids:
            self._select_after_load = booked.appointment_ids[0]
        self.banner.show_success(booked.message)
        self.package_panel.show_for(None)
        self.reload()
