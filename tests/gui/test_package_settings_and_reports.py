"""Clinic ▸ Packages & Memberships (set up, edit, "Update Sold Packages"), the package reports
with CSV export, and "My day"; every control named after its label."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from desk_app.models.enums import PaymentMethod
from desk_app.services.actor import Actor
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.packages.my_day_dialog import MyDayDialog
from desk_app.views.packages.plan_form import PlanDialog
from desk_app.views.packages.plans_dialog import PlansDialog, UpdateSoldDialog
from desk_app.views.packages.reports_dialog import PackageReportsDialog
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers_profile import click, named, select_row, wait_closed

pytestmark = pytest.mark.gui

#: Set to a folder (docs/screenshots) to keep the screenshots these tests take.
SHOTS = os.environ.get("DESK_APP_SHOTS", "")


def shot(widget: QWidget, tmp_path: Path, name: str) -> None:
    QApplication.processEvents()  # let a layout changed by the last edit settle first
    widget.grab().save(str(Path(SHOTS or tmp_path) / f"{name}.png"))


@pytest.fixture
def office_ctx(demo_services: Services, tasks: object) -> ViewContext:
    """Administrative/All Billing: sets up packages and reads reports."""
    return signed_in(demo_services, actor_named(demo_services.db, "office"), tasks)  # type: ignore[arg-type]


def fill_plan(qtbot: QtBot, dialog: PlanDialog) -> None:
    named(dialog, QLineEdit, "Name").setText("6 Physio visits")

    price = named(dialog, QLineEdit, "Price")
    price.clear()
    qtbot.keyClicks(price, "$480")  # typing clears the earlier refusal
    named(dialog, QSpinBox, "Number of uses").setValue(6)
    named(dialog, QComboBox, "Expiry").setCurrentText("Months after sale")
    named(dialog, QSpinBox, "Expires after").setValue(6)
    named(dialog, QCheckBox, "Physio follow-up (30 min)").setChecked(True)
    named(dialog, QCheckBox, "Physio initial assessment (60 min)").setChecked(True)
    named(dialog, QSpinBox, "Limit for Physio initial assessment (60 min)").setValue(1)
    named(dialog, QCheckBox, "Shared with household").setChecked(True)


def test_set_up_a_package_then_edit_it_and_update_sold_packages(
    qtbot: QtBot, office_ctx: ViewContext, demo_services: Services, maddy_id: uuid.UUID,
    tmp_path: Path,
) -> None:
    settings = PlansDialog(office_ctx)
    qtbot.addWidget(settings)
    settings.show()
    wait_idle(qtbot, office_ctx)
    click(qtbot, settings, "New package…")
    dialog = settings.open_dialog
    assert isinstance(dialog, PlanDialog)
    assert unnamed_controls(dialog) == []
    named(dialog, QLineEdit, "Price").setText("48.123")
    click(qtbot, dialog, "Save")
    assert dialog.isVisible()  # refused inline: three decimals
    fill_plan(qtbot, dialog)
    shot(dialog, tmp_path, "package-setup")
    click(qtbot, dialog, "Save")
    wait_closed(qtbot, office_ctx, dialog)
    [plan] = [p for p in settings.model.rows if p.name == "6 Physio visits"]  # demo's too
    assert (plan.name, plan.uses_text, plan.expiry_text) == (
        "6 Physio visits", "6", "6 months after sale")
    assert {(i.treatment, i.max_uses) for i in plan.items} == {
        ("Physio follow-up", None), ("Physio initial assessment", 1)}

    office = actor_named(demo_services.db, "office")
    sold = demo_services.packages.sell(office, maddy_id, plan.id)
    settings.reload()
    wait_idle(qtbot, office_ctx)
    shot(settings, tmp_path, "packages-settings")
    select_row(settings.table, plan.id)
    click(qtbot, settings, "Edit…")
    edit = settings.open_dialog
    assert isinstance(edit, PlanDialog)
    named(edit, QLineEdit, "Name").setText("6 Physio")
    click(qtbot, edit, "Save")
    wait_idle(qtbot, office_ctx)
    question = settings.open_dialog
    assert isinstance(question, UpdateSoldDialog)
    assert unnamed_controls(question) == []
    click(qtbot, question, "Update Sold Packages")
    wait_closed(qtbot, office_ctx, question)
    wait_closed(qtbot, office_ctx, edit)
    assert "updated 1 sold package" in settings.banner.text()
    assert demo_services.packages.sale(office, sold.sale_id).name == "6 Physio"
    assert unnamed_controls(settings) == []


def test_reports_filter_and_export_csv_and_my_day(
    qtbot: QtBot, office_ctx: ViewContext, demo_services: Services, maddy_id: uuid.UUID,
    front_desk: Actor, tmp_path: Path,
) -> None:
    from desk_app.services.package_plans import EligibleItem, PlanInput

    office = actor_named(demo_services.db, "office")
    options = demo_services.appointments.booking_options(office)
    massage = next(c.id for c in options.treatments if c.label.startswith("Massage 60"))
    okoye = next(c.id for c in options.practitioners if c.label.startswith("Daniel Okoye"))
    riverside = next(c.id for c in options.locations if c.label == "Riverside")
    plan = demo_services.package_plans.create(office, PlanInput(
        "10 Massages", 90000, [EligibleItem(massage)], uses=10))
    sold = demo_services.packages.sell(office, maddy_id, plan, riverside)
    demo_services.ledger.record_payment(office, maddy_id, PaymentMethod.CASH, 90000,
                                        apply_to=[sold.invoice_id])
    today = demo_services.appointments.book(office, maddy_id, okoye, massage, riverside,
                                            datetime(2026, 11, 21, 16, 0))
    demo_services.packages.redeem(office, today, sold.sale_id)

    reports = PackageReportsDialog(office_ctx)
    qtbot.addWidget(reports)
    reports.show()
    wait_idle(qtbot, office_ctx)
    maddy = "Maddy Ødegård-Nguyễn"
    assert [(r.patient, r.uses_in_period, r.left_text) for r in reports.usage_model.rows
            if r.patient == maddy] == [(maddy, 1, "9")]
    assert len(reports.usage_model.rows) > 1  # the demo's packages used this month
    assert unnamed_controls(reports) == []
    shot(reports, tmp_path, "package-usage-report")
    named(reports, QComboBox, "Pass type").setCurrentText("Memberships")
    click(qtbot, reports, "Run report")
    wait_idle(qtbot, office_ctx)
    assert {r.kind.label for r in reports.usage_model.rows} == {"Membership"}  # the demo's
    named(reports, QComboBox, "Pass type").setCurrentText("Packages")
    click(qtbot, reports, "Run report")
    wait_idle(qtbot, office_ctx)
    target = tmp_path / "usage.csv"
    reports.export_to(target)
    wait_idle(qtbot, office_ctx)
    exported = target.read_text(encoding="utf-8").splitlines()
    assert "Maddy Ødegård-Nguyễn,10 Massages,Package,1,1,10,9,Never" in exported
    reports.tabs.setCurrentIndex(1)
    assert "10 Massages" in [r.package for r in reports.sales_model.rows]

    okoye_ctx = signed_in(demo_services, actor_named(demo_services.db, "dokoye"),
                          office_ctx.tasks)
    day = MyDayDialog(okoye_ctx)
    qtbot.addWidget(day)
    day.show()
    wait_idle(qtbot, okoye_ctx)
    assert [(r.patient, r.package, r.uses_left) for r in day.model.rows
            if r.patient == maddy] == [(maddy, "10 Massages", "10 Massages: 9 left")]
    assert not named(day, QComboBox, "Practitioner").isEnabled()  # a practitioner's own day
    assert unnamed_controls(day) == []
    shot(day, tmp_path, "my-day")


def test_a_failed_membership_charge_shows_in_the_status_bar(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, maddy_id: uuid.UUID,
) -> None:
    from desk_app.models.enums import PlanKind, Recurrence
    from desk_app.services.package_plans import EligibleItem, PlanInput
    from desk_app.views.main_window import MainWindow

    office = actor_named(demo_services.db, "office")
    massage = demo_services.appointments.booking_options(office).treatments[0].id
    plan = demo_services.package_plans.create(office, PlanInput(
        "Club", 5000, [EligibleItem(massage)], uses=None, kind=PlanKind.MEMBERSHIP,
        recurrence=Recurrence.MONTHLY))
    [billed] = demo_services.memberships.start(office, maddy_id, plan)  # Maddy has no card
    assert not billed.charged and billed.message == "No card on file."
    window = MainWindow(view_ctx)
    qtbot.addWidget(window)
    window.show()
    wait_idle(qtbot, view_ctx)
    assert window.notices_label.isVisible()
    assert window.notices_label.text() == (
        "1 membership charge failed: take payment or send a pay-balance link")

    # Clicking it lists the failures: open the patient, then dismiss the notice.
    from desk_app.views.packages.failed_charges_dialog import FailedChargesDialog
    from tests.gui.test_accessibility import assert_all_named

    window.notices_label.click()
    [dialog] = [d for d in window.findChildren(FailedChargesDialog) if d.isVisible()]
    wait_idle(qtbot, view_ctx)
    assert_all_named(dialog)
    [notice] = dialog.model.rows
    assert "No card on file." in notice.message
    dialog.open_button.click()
    wait_idle(qtbot, view_ctx)
    assert window.current_patient_id == maddy_id
    dialog.dismiss_button.click()
    wait_idle(qtbot, view_ctx)
    assert dialog.model.rows == []
    assert not window.notices_label.isVisible()
