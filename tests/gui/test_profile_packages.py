"""Packages on the profile: sell one, see it await payment, use it on an appointment from the
Billing info panel, remove it again; refund; the receipt. Driven by the controls' labels."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desk_app.models.enums import PaymentMethod
from desk_app.services.actor import Actor
from desk_app.services.package_plans import EligibleItem, PlanInput
from desk_app.services.package_terms import SaleStatus
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.package_dialogs import (
    PackageRefundDialog,
    SellPackageDialog,
    UsePackageDialog,
)
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
    show_tab,
    wait_closed,
)
from tests.gui.test_profile_appointments import book_in_dialog

pytestmark = pytest.mark.gui

#: Set to a folder (docs/screenshots) to keep the screenshots these tests take.
SHOTS = os.environ.get("DESK_APP_SHOTS", "")


def shot(widget: QWidget, tmp_path: Path, name: str) -> None:
    QApplication.processEvents()  # let a layout changed by the last edit settle first
    widget.grab().save(str(Path(SHOTS or tmp_path) / f"{name}.png"))


def set_up_plan(services: Services) -> uuid.UUID:
    owner = actor_named(services.db, "owner")
    massage = next(c.id for c in services.appointments.booking_options(owner).treatments
                   if c.label.startswith("Massage 60 min"))
    return services.package_plans.create(owner, PlanInput(
        "10 Massages", 90000, [EligibleItem(massage, 5)], uses=10, tax_rate_bp=1300))


def book_massage(services: Services, actor: Actor, patient: uuid.UUID,
                 when: datetime) -> uuid.UUID:
    options = services.appointments.booking_options(actor)
    okoye = next(c.id for c in options.practitioners if c.label.startswith("Daniel Okoye"))
    massage = next(c.id for c in options.treatments if c.label.startswith("Massage 60 min"))
    riverside = next(c.id for c in options.locations if c.label == "Riverside")
    return services.appointments.book(actor, patient, okoye, massage, riverside, when)


def test_sell_a_package_pay_it_then_use_it_on_a_visit_and_remove_it(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID, tmp_path: Path,
) -> None:
    set_up_plan(demo_services)
    visit = book_massage(demo_services, front_desk, maddy_id, datetime(2026, 11, 24, 9, 0))
    view = open_profile(qtbot, view_ctx, maddy_id, "Packages")
    tab = view.packages

    dialog = open_with(qtbot, tab, "Sell package…", SellPackageDialog)
    choices = named(dialog, QComboBox, "Package or membership")
    choices.setCurrentIndex(choices.findText("10 Massages", Qt.MatchFlag.MatchStartsWith))
    assert choices.currentText().startswith("10 Massages — $900.00 · 10 uses")
    assert unnamed_controls(dialog) == []
    shot(dialog, tmp_path, "sell-package")
    click(qtbot, dialog, "Sell")
    wait_closed(qtbot, view_ctx, dialog)
    assert "It can be used once fully paid" in tab.banner.text()
    [sale] = tab.model.rows
    assert sale.status is SaleStatus.AWAITING_PAYMENT
    assert clipped_cells(tab.table) == []

    # Paid at the desk; the profile reloads the package as Active.
    demo_services.ledger.record_payment(front_desk, maddy_id, PaymentMethod.CASH, 101700,
                                        apply_to=[sale.invoice_id])
    view.reload()
    wait_idle(qtbot, view_ctx)
    assert tab.model.rows[0].status is SaleStatus.ACTIVE
    shot(tab, tmp_path, "profile-packages")

    show_tab(view, "Appointments")
    wait_idle(qtbot, view_ctx)  # the tab loads when first shown
    appointments = view.appointments
    select_row(appointments.upcoming_table, visit)
    wait_idle(qtbot, view_ctx)
    panel = appointments.package_panel
    assert "1 package could pay for it" in panel.summary.text()
    use = open_with(qtbot, panel, "Use package…", UsePackageDialog)
    assert unnamed_controls(use) == []
    click(qtbot, use, "Use package")
    wait_closed(qtbot, view_ctx, use)
    assert panel.summary.text() == "Paid by 10 Massages: 1 of 10 used, 9 left, no expiry"
    assert "pays for this visit" in appointments.banner.text()
    shot(appointments, tmp_path, "appointment-package")
    assert demo_services.packages.sale(front_desk, sale.id).usage.used == 1

    click(qtbot, panel, "Remove package")
    wait_idle(qtbot, view_ctx)
    assert "the use was given back" in appointments.banner.text()
    assert demo_services.packages.sale(front_desk, sale.id).usage.used == 0
    assert panel.summary.text().startswith("No package on this visit.")


def test_the_use_dialog_says_why_a_package_cannot_pay(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    plan = set_up_plan(demo_services)
    demo_services.packages.sell(front_desk, maddy_id, plan)  # unpaid
    visit = book_massage(demo_services, front_desk, maddy_id, datetime(2026, 11, 24, 9, 0))
    view = open_profile(qtbot, view_ctx, maddy_id, "Appointments")
    select_row(view.appointments.upcoming_table, visit)
    wait_idle(qtbot, view_ctx)
    use = open_with(qtbot, view.appointments.package_panel, "Use package…", UsePackageDialog)
    assert "not yet paid (awaiting payment)" in use.refusals.text()
    assert not use.action_button.isEnabled()


def test_refund_a_package_to_credit_from_the_packages_tab(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID, tmp_path: Path,
) -> None:
    plan = set_up_plan(demo_services)
    sold = demo_services.packages.sell(front_desk, maddy_id, plan)
    demo_services.ledger.record_payment(front_desk, maddy_id, PaymentMethod.CASH, 101700,
                                        apply_to=[sold.invoice_id])
    credit_before = demo_services.ledger.balance(front_desk, maddy_id).credit_cents
    view = open_profile(qtbot, view_ctx, maddy_id, "Packages")
    select_row(view.packages.table, sold.sale_id)
    refund = open_with(qtbot, view.packages, "Refund package…", PackageRefundDialog)
    assert named(refund, QRadioButton, "Pro rata for the unused uses: $1,017.00").isChecked()
    assert unnamed_controls(refund) == []
    shot(refund, tmp_path, "package-refund")
    named(refund, QRadioButton, "A chosen amount").setChecked(True)
    amount = named(refund, QLineEdit, "Amount")
    amount.setText("1,017.001")
    click(qtbot, refund, "Refund and close")
    assert refund.isVisible()  # three decimals: refused inline, nothing written
    amount.setText("$500")
    click(qtbot, refund, "Refund and close")
    wait_closed(qtbot, view_ctx, refund)
    assert "Refunded $500.00 to account credit" in view.packages.banner.text()
    after = demo_services.ledger.balance(front_desk, maddy_id).credit_cents
    assert after - credit_before == 50000
    assert view.packages.model.rows[0].status is SaleStatus.CLOSED


def test_booking_a_visit_uses_an_auto_selected_package(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    owner = actor_named(demo_services.db, "owner")
    massage = next(c.id for c in demo_services.appointments.booking_options(owner).treatments
                   if c.label.startswith("Massage 60 min"))
    plan = demo_services.package_plans.create(owner, PlanInput(
        "5 Massages", 50000, [EligibleItem(massage)], uses=5, auto_select=True))
    sold = demo_services.packages.sell(front_desk, maddy_id, plan)
    demo_services.ledger.record_payment(front_desk, maddy_id, PaymentMethod.CASH, 50000,
                                        apply_to=[sold.invoice_id])
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = book_in_dialog(qtbot, view, view_ctx, datetime(2026, 11, 25, 10, 0))
    click(qtbot, dialog, "Book appointment")
    wait_closed(qtbot, view_ctx, dialog)
    wait_idle(qtbot, view_ctx)
    assert "5 Massages pays for it (auto-selected): 1 of 5 used" in (
        view.appointments.banner.text())
    assert demo_services.packages.sale(front_desk, sold.sale_id).usage.used == 1


def test_start_a_membership_from_the_tab_then_cancel_it(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    from desk_app.models.enums import PlanKind, Recurrence
    from desk_app.views.profile.confirm_dialog import ConfirmDialog

    owner = actor_named(demo_services.db, "owner")
    massage = demo_services.appointments.booking_options(owner).treatments[0].id
    demo_services.package_plans.create(owner, PlanInput(
        "Massage club", 5000, [EligibleItem(massage)], uses=2, kind=PlanKind.MEMBERSHIP,
        recurrence=Recurrence.MONTHLY))
    view = open_profile(qtbot, view_ctx, maddy_id, "Packages")
    tab = view.packages
    dialog = open_with(qtbot, tab, "Sell package…", SellPackageDialog)
    assert named(dialog, QComboBox, "Package or membership").currentText() == (
        "Massage club — $50.00 · 2 uses per period · Renews monthly")
    click(qtbot, dialog, "Start membership")
    wait_closed(qtbot, view_ctx, dialog)
    wait_idle(qtbot, view_ctx)
    assert "Started Massage club" in tab.banner.text()
    assert "No card on file." in tab.banner.text()  # the desk is told it was not charged
    [period] = tab.model.rows
    assert period.membership_id is not None
    select_row(tab.table, period.id)
    confirm = open_with(qtbot, tab, "Cancel membership", ConfirmDialog)
    click(qtbot, confirm, "Cancel membership")
    wait_closed(qtbot, view_ctx, confirm)
    wait_idle(qtbot, view_ctx)
    assert "nothing more will be invoiced" in tab.banner.text()
    assert not named(tab, QPushButton, "Cancel membership").isEnabled()
