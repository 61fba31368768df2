"""Booking a group or a class from the Appointments tab, and Book again with the warning
before copies of past visits use up packages. Driven by the controls' labels."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QListWidget, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from desk_app.models.enums import AppointmentKind, AppointmentStatus, PaymentMethod
from desk_app.services.actor import Actor
from desk_app.services.package_plans import EligibleItem, PlanInput
from desk_app.services.patient_input import PatientInput
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.book_again_dialog import BookAgainDialog, PackageUseWarningDialog
from desk_app.views.profile.inline_error import InlineError
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import (
    click,
    clipped_cells,
    named,
    open_profile,
    open_with,
    select_row,
    wait_closed,
)
from tests.gui.test_profile_appointments import all_appointments, book_in_dialog
from tests.gui.test_profile_packages import book_massage, shot

pytestmark = pytest.mark.gui


def new_patient(services: Services, actor: Actor, first: str, last: str) -> uuid.UUID:
    return services.patients.create(actor, PatientInput(legal_first_name=first,
                                                        legal_last_name=last)).id


def auto_package(services: Services, actor: Actor, patient: uuid.UUID, uses: int,
                 name: str) -> uuid.UUID:
    admin = actor_named(services.db, "owner")
    massage = next(c.id for c in services.appointments.booking_options(admin).treatments
                   if c.label.startswith("Massage 60 min"))
    plan = services.package_plans.create(admin, PlanInput(
        name, 30000, [EligibleItem(massage)], uses=uses, auto_select=True))
    sold = services.packages.sell(actor, patient, plan)
    services.ledger.record_payment(actor, patient, PaymentMethod.CASH, sold.total_cents,
                                   apply_to=[sold.invoice_id])
    return sold.sale_id


def add_participant(qtbot: QtBot, ctx: ViewContext, dialog: QWidget, query: str) -> None:
    named(dialog, QLineEdit, "Find a patient").setText(query)
    click(qtbot, dialog, "Find")
    wait_idle(qtbot, ctx)
    click(qtbot, dialog, "Add participant")


def test_book_a_group_from_the_primary_clients_profile(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID, tmp_path: Path,
) -> None:
    zeb = new_patient(demo_services, front_desk, "Zebulon", "Quist")
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = book_in_dialog(qtbot, view, view_ctx, datetime(2026, 11, 24, 7, 15))
    named(dialog, QComboBox, "Appointment type").setCurrentText("Group appointment")
    assert "is the primary client" in dialog.kind_hint.text()
    click(qtbot, dialog, "Book appointment")  # no one else yet: said next to the field
    assert any("Add at least one other participant to the group" in e.text()
               for e in dialog.findChildren(InlineError))
    add_participant(qtbot, view_ctx, dialog, "Quist")
    chosen = named(dialog, QListWidget, "Participants added")
    assert [chosen.item(i).text() for i in range(chosen.count())] == ["Zebulon Quist"]
    assert unnamed_controls(dialog) == []
    shot(dialog, tmp_path, "book-group")
    click(qtbot, dialog, "Book appointment")
    wait_closed(qtbot, view_ctx, dialog)
    assert view.appointments.banner.text().startswith("Booked a group visit: Massage 60 min")
    [group] = [a for a in all_appointments(demo_services, front_desk, maddy_id)
               if a.kind is AppointmentKind.GROUP]
    assert group.party == "group with Zebulon Quist"
    [zebs] = all_appointments(demo_services, front_desk, zeb)
    assert zebs.id == group.id and zebs.billed_to.startswith("Maddy")
    # On Zeb's profile: the group is billed to Maddy, so it is not Zeb's to invoice or pay.
    zeb_view = open_profile(qtbot, view_ctx, zeb, "Appointments")
    select_row(zeb_view.appointments.upcoming_table, group.id)
    wait_idle(qtbot, view_ctx)
    panel = zeb_view.appointments.package_panel
    assert "Group visit: billed to Maddy" in panel.summary.text()
    assert not panel.use_button.isEnabled()
    invoice = zeb_view.appointments.invoice_button
    assert not invoice.isEnabled() and "invoiced to its primary client" in invoice.toolTip()


def test_book_a_class_where_each_participant_uses_their_own_package(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID, tmp_path: Path,
) -> None:
    zeb = new_patient(demo_services, front_desk, "Zebulon", "Quist")
    maddys = auto_package(demo_services, front_desk, maddy_id, 10, "Maddy's 10")
    zebs = auto_package(demo_services, front_desk, zeb, 5, "Zeb's 5")
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = book_in_dialog(qtbot, view, view_ctx, datetime(2026, 11, 24, 7, 15))
    named(dialog, QComboBox, "Appointment type").setCurrentText("Class booking")
    add_participant(qtbot, view_ctx, dialog, "Zebulon")
    click(qtbot, dialog, "Book appointment")
    wait_closed(qtbot, view_ctx, dialog)
    wait_idle(qtbot, view_ctx)
    assert "Maddy's 10 pays for it (auto-selected)" in view.appointments.banner.text()
    [klass] = [a for a in all_appointments(demo_services, front_desk, zeb)]
    assert klass.kind is AppointmentKind.CLASS
    packages = demo_services.packages
    assert packages.visit_coverage(front_desk, klass.id, maddy_id).sale_id == maddys
    assert packages.visit_coverage(front_desk, klass.id, zeb).sale_id == zebs
    # Zeb's place is billed to Zeb: invoiced from his profile, at the package's $0.
    zeb_view = open_profile(qtbot, view_ctx, zeb, "Appointments")
    select_row(zeb_view.appointments.upcoming_table, klass.id)
    wait_idle(qtbot, view_ctx)
    assert zeb_view.appointments.package_panel.summary.text().startswith("Paid by Zeb's 5")
    click(qtbot, zeb_view, "Invoice visit")
    wait_idle(qtbot, view_ctx)
    assert "for $0.00 created" in zeb_view.appointments.banner.text()
    wait_idle(qtbot, view_ctx)
    assert clipped_cells(zeb_view.appointments.upcoming_table) == []
    shot(zeb_view.appointments, tmp_path, "appointment-class")


def past_visit(services: Services, actor: Actor, patient: uuid.UUID) -> uuid.UUID:
    visit = book_massage(services, actor, patient, datetime(2026, 11, 16, 7, 15))
    services.appointments.set_status(actor, visit, AppointmentStatus.ARRIVED)
    return visit


def open_book_again(qtbot: QtBot, view_ctx: ViewContext, patient: uuid.UUID,
                    visit: uuid.UUID) -> tuple[object, BookAgainDialog]:
    view = open_profile(qtbot, view_ctx, patient, "Appointments")
    select_row(view.appointments.history_table, visit)
    dialog = open_with(qtbot, view, "Book again…", BookAgainDialog)
    named(dialog, QSpinBox, "How many").setValue(4)
    return view, dialog


def test_book_again_warns_before_copies_use_a_package_then_books_anyway(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID, tmp_path: Path,
) -> None:
    sale = auto_package(demo_services, front_desk, maddy_id, 3, "3 Massage Visits")
    visit = past_visit(demo_services, front_desk, maddy_id)
    view, dialog = open_book_again(qtbot, view_ctx, maddy_id, visit)
    assert unnamed_controls(dialog) == []
    shot(dialog, tmp_path, "book-again")
    click(qtbot, dialog, "Book copies…")
    wait_idle(qtbot, view_ctx)
    tab = view.appointments  # type: ignore[attr-defined]
    warning = tab.open_dialog
    assert isinstance(warning, PackageUseWarningDialog)
    qtbot.waitUntil(warning.isVisible)
    text = warning.findChild(QLabel, "packageWarning").text()
    assert text == ("These 4 visits would use all 3 uses left on 3 Massage Visits; "
                    "1 would be billed normally.")
    assert unnamed_controls(warning) == []
    shot(warning, tmp_path, "book-again-warning")
    assert demo_services.packages.sale(front_desk, sale).usage.used == 0  # nothing yet
    click(qtbot, warning, "Book anyway")
    wait_closed(qtbot, view_ctx, warning)
    assert tab.banner.text() == "Booked 4 appointments. 3 uses of 3 Massage Visits applied."
    assert demo_services.packages.sale(front_desk, sale).usage.used == 3


def test_book_again_without_using_packages_or_cancel(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    sale = auto_package(demo_services, front_desk, maddy_id, 3, "3 Massage Visits")
    visit = past_visit(demo_services, front_desk, maddy_id)
    before = len(all_appointments(demo_services, front_desk, maddy_id))
    view, dialog = open_book_again(qtbot, view_ctx, maddy_id, visit)
    click(qtbot, dialog, "Book copies…")
    wait_idle(qtbot, view_ctx)
    tab = view.appointments  # type: ignore[attr-defined]
    warning = tab.open_dialog
    assert isinstance(warning, PackageUseWarningDialog)
    click(qtbot, warning, "Cancel")
    assert len(all_appointments(demo_services, front_desk, maddy_id)) == before

    dialog = open_with(qtbot, view, "Book again…", BookAgainDialog)  # type: ignore[arg-type]
    click(qtbot, dialog, "Book copies…")
    wait_idle(qtbot, view_ctx)
    warning = tab.open_dialog
    assert isinstance(warning, PackageUseWarningDialog)
    click(qtbot, warning, "Book without using packages")
    wait_closed(qtbot, view_ctx, warning)
    assert len(all_appointments(demo_services, front_desk, maddy_id)) == before + 4
    assert demo_services.packages.sale(front_desk, sale).usage.used == 0
