"""The Appointments tab: book a visit, mark how it went, invoice it, and see the balance move."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import pytest
from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import QComboBox, QDateEdit, QLabel, QPushButton, QTimeEdit
from pytestqt.qtbot import QtBot

from desk_app.models.enums import AppointmentStatus
from desk_app.models.money import format_money
from desk_app.services.actor import Actor
from desk_app.services.appointments import AppointmentRow
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.book_appointment_dialog import BookAppointmentDialog
from desk_app.views.profile.profile_view import ProfileView
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import (
    click,
    clipped_cells,
    named,
    open_profile,
    open_with,
    select_row,
    show_tab,
    wait_closed,
)

pytestmark = pytest.mark.gui

#: The tests' clock stands at 14:00 in Toronto on Saturday Nov 21, 2026.
TODAY = date(2026, 11, 21)


def all_appointments(
    services: Services, actor: Actor, patient_id: uuid.UUID
) -> list[AppointmentRow]:
    found = services.appointments.for_patient(actor, patient_id)
    return [*found.upcoming, *found.history]


def book_in_dialog(
    qtbot: QtBot, view: ProfileView, ctx: ViewContext, when: datetime
) -> BookAppointmentDialog:
    show_tab(view, "Appointments")
    dialog = open_with(qtbot, view, "Book appointment…", BookAppointmentDialog)
    named(dialog, QComboBox, "Practitioner").setCurrentText("Daniel Okoye, RMT")
    named(dialog, QComboBox, "Treatment").setCurrentText("Massage 60 min (60 min)")
    named(dialog, QComboBox, "Location").setCurrentText("Riverside")
    named(dialog, QDateEdit, "Date").setDate(QDate(when.year, when.month, when.day))
    named(dialog, QTimeEdit, "Time").setTime(QTime(when.hour, when.minute))
    return dialog


def test_book_arrive_and_invoice_a_visit_raises_the_balance(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    before = demo_services.ledger.balance(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = book_in_dialog(qtbot, view, view_ctx, datetime(2026, 11, 21, 16, 30))
    click(qtbot, dialog, "Book appointment")
    wait_closed(qtbot, view_ctx, dialog)

    booked = [
        a
        for a in all_appointments(demo_services, front_desk, maddy_id)
        if a.treatment == "Massage 60 min"
    ]
    assert len(booked) == 1
    visit = booked[0]
    # Booked in clinic time: 4:30 PM in Toronto, whatever the workstation's own zone.
    assert (visit.starts_at.date(), visit.starts_at.time()) == (TODAY, time(16, 30))
    assert (visit.practitioner, visit.location, visit.status) == (
        "Daniel Okoye, RMT",
        "Riverside",
        AppointmentStatus.BOOKED,
    )
    booked_text = view.appointments.banner.text()
    assert booked_text.startswith("Booked Massage 60 min (60 min) with Daniel Okoye, RMT")
    assert visit.id in {r.id for r in view.appointments.upcoming.rows}
    chosen = view.appointments.selected_appointment()
    assert chosen is not None and chosen.id == visit.id

    click(qtbot, view, "Mark arrived")
    wait_idle(qtbot, view_ctx)
    arrived = {a.id: a for a in all_appointments(demo_services, front_desk, maddy_id)}[visit.id]
    assert arrived.status == AppointmentStatus.ARRIVED
    assert visit.id in {r.id for r in view.appointments.history.rows}  # moved to History

    select_row(view.appointments.history_table, visit.id)
    with qtbot.waitSignal(view.balance_changed, timeout=5_000):
        click(qtbot, view, "Invoice visit")
    wait_idle(qtbot, view_ctx)

    after = demo_services.ledger.balance(front_desk, maddy_id)
    massage = 11000 + 1430  # $110.00 plus 13% HST
    assert after.owing_cents == before.owing_cents + massage
    invoiced = {a.id: a for a in all_appointments(demo_services, front_desk, maddy_id)}[visit.id]
    assert invoiced.invoice_number.startswith("DESK1-")
    owing = view.findChild(QLabel, "balanceOwing")
    assert owing is not None and owing.text() == format_money(after.owing_cents, "CAD")
    assert f"Invoice {invoiced.invoice_number} for $124.30" in view.appointments.banner.text()
    # The visit is on an invoice now: it cannot be invoiced twice, nor cancelled.
    assert not named(view, QPushButton, "Invoice visit").isEnabled()
    assert not named(view, QPushButton, "Cancel appointment").isEnabled()
    # The Billing tab has it selected, ready to take payment.
    on_billing = view.billing.selected_invoice()
    assert on_billing is not None and on_billing.number == invoiced.invoice_number


def test_double_booking_is_refused_in_the_dialog(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id)
    first = book_in_dialog(qtbot, view, view_ctx, datetime(2026, 11, 23, 10, 0))
    click(qtbot, first, "Book appointment")
    wait_closed(qtbot, view_ctx, first)
    count = len(all_appointments(demo_services, front_desk, maddy_id))

    clash = book_in_dialog(qtbot, view, view_ctx, datetime(2026, 11, 23, 10, 30))
    click(qtbot, clash, "Book appointment")
    wait_idle(qtbot, view_ctx)
    assert clash.isVisible()
    assert "Daniel Okoye is already booked" in clash.error.message
    assert len(all_appointments(demo_services, front_desk, maddy_id)) == count


def test_no_show_and_cancel_are_saved(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Appointments")
    upcoming = view.appointments.upcoming.rows[0]
    select_row(view.appointments.upcoming_table, upcoming.id)
    click(qtbot, view, "Mark no-show")
    wait_idle(qtbot, view_ctx)
    status = {a.id: a.status for a in all_appointments(demo_services, front_desk, maddy_id)}
    assert status[upcoming.id] == AppointmentStatus.NO_SHOW

    select_row(view.appointments.history_table, upcoming.id)
    click(qtbot, view, "Cancel appointment")
    wait_idle(qtbot, view_ctx)
    status = {a.id: a.status for a in all_appointments(demo_services, front_desk, maddy_id)}
    assert status[upcoming.id] == AppointmentStatus.CANCELLED
    # A cancelled visit is greyed and is not invoiced.
    assert not named(view, QPushButton, "Invoice visit").isEnabled()
    assert "cancelled" in named(view, QPushButton, "Invoice visit").toolTip()


def test_invoice_visit_needs_an_uninvoiced_visit_selected(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Appointments")
    invoice_visit = named(view, QPushButton, "Invoice visit")
    assert not invoice_visit.isEnabled()  # nothing selected
    invoiced = next(r for r in view.appointments.history.rows if r.invoice_number)
    select_row(view.appointments.history_table, invoiced.id)
    assert not invoice_visit.isEnabled()
    assert invoiced.invoice_number in invoice_visit.toolTip()
    select_row(view.appointments.upcoming_table, view.appointments.upcoming.rows[0].id)
    assert invoice_visit.isEnabled()
    assert view.appointments.history_table.selectionModel().selectedRows() == []


def test_appointment_tables_show_every_value_in_full(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Appointments")
    for table in (view.appointments.upcoming_table, view.appointments.history_table):
        assert table.model().rowCount() > 0
        assert clipped_cells(table) == [], table.accessibleName()


def test_every_appointments_control_and_the_booking_dialog_are_named(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Appointments")
    assert unnamed_controls(view.appointments) == []
    dialog = open_with(qtbot, view, "Book appointment…", BookAppointmentDialog)
    assert unnamed_controls(dialog) == []
    dialog.reject()
    wait_closed(qtbot, view_ctx, dialog)
