"""What someone trying the demo sees of packages: a patient's Packages tab, the package paying
for today's visit, the usage report and a practitioner's "My day", all from the demo's own
data (services/demo_packages.py)."""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desk_app.models.packages import PackageSale
from desk_app.services.package_terms import SaleStatus
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.packages.my_day_dialog import MyDayDialog
from desk_app.views.packages.reports_dialog import PackageReportsDialog
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named
from tests.gui.conftest import signed_in, wait_idle
from tests.gui.helpers_profile import clipped_cells, open_profile, select_row, show_tab

pytestmark = pytest.mark.gui

TODAY = date(2026, 11, 21)  # the tests' clock, in Toronto

#: Set to a folder (docs/screenshots) to keep the screenshots these tests take.
SHOTS = os.environ.get("DESK_APP_SHOTS", "")


def shot(widget: QWidget, tmp_path: Path, name: str) -> None:
    QApplication.processEvents()
    widget.grab().save(str(Path(SHOTS or tmp_path) / f"{name}.png"))


def buyer_of(services: Services, package: str) -> uuid.UUID:
    with services.db.reading() as s:
        return s.scalars(select(PackageSale.patient_id).where(PackageSale.name == package)
                         .order_by(PackageSale.sold_at.desc()).limit(1)).one()


def test_a_demo_patients_packages_and_todays_visit_paid_by_one(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, tmp_path: Path,
) -> None:
    member = buyer_of(demo_services, "Wellness")
    view = open_profile(qtbot, view_ctx, member, "Packages")
    rows = view.packages.model.rows
    assert [(r.name, r.status) for r in rows] == [
        ("Wellness", SaleStatus.ACTIVE), ("Wellness", SaleStatus.EXPIRED),
        ("Wellness", SaleStatus.EXPIRED)]
    shot(view.packages, tmp_path, "demo-profile-packages")
    assert clipped_cells(view.packages.table) == []

    show_tab(view, "Appointments")
    wait_idle(qtbot, view_ctx)
    appointments = view.appointments
    visits = demo_services.appointments.for_patient(view_ctx.actor, member)
    [today] = [v for v in visits.history + visits.upcoming if v.starts_at.date() == TODAY]
    select_row(appointments.history_table if today in visits.history
               else appointments.upcoming_table, today.id)
    wait_idle(qtbot, view_ctx)
    assert appointments.package_panel.summary.text().startswith(
        "Paid by Wellness: 1 of 2 used, 1 left")


def test_the_usage_report_and_my_day_with_the_demo_data(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, tmp_path: Path,
) -> None:
    office = signed_in(demo_services, actor_named(demo_services.db, "office"), view_ctx.tasks)
    reports = PackageReportsDialog(office)
    qtbot.addWidget(reports)
    reports.show()
    wait_idle(qtbot, office)
    assert [r.package for r in reports.usage_model.rows] == [
        "Massage 10-Visit Pass", "Physio Family Pack", "Chiro 10 (insurer)",
        "Wellness"]
    assert reports.totals.text().startswith("8 uses · 2 sold")
    assert clipped_cells(reports.usage_table) == [] and unnamed_controls(reports) == []
    shot(reports, tmp_path, "demo-package-usage-report")

    okoye = signed_in(demo_services, actor_named(demo_services.db, "dokoye"), view_ctx.tasks)
    day = MyDayDialog(okoye)
    qtbot.addWidget(day)
    day.show()
    wait_idle(qtbot, okoye)
    assert [r.package for r in day.model.rows] == ["Wellness",
                                                   "Massage 10-Visit Pass"]
    assert clipped_cells(day.table) == []
    shot(day, tmp_path, "demo-my-day")
