"""The Billing tab at the desk: balance and credit, payments, credit, unapply, invoices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QSpinBox
from pytestqt.qtbot import QtBot

from desk_app.models.enums import InvoiceStatus, PaymentMethod
from desk_app.models.money import format_money
from desk_app.services.actor import Actor
from desk_app.services.ledger import InvoiceRow
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.apply_dialog import ApplyCreditDialog, ApplyPaymentDialog
from desk_app.views.profile.billing_models import InvoicesModel
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.header import WARM
from desk_app.views.profile.invoice_items_dialog import InvoiceItemsDialog
from desk_app.views.profile.profile_view import ProfileView
from desk_app.views.profile.record_payment_dialog import RecordPaymentDialog
from desk_app.views.profile.table_model import MUTED_COLOUR, OWING_COLOUR
from desk_app.views.profile.tax_rate import TaxRateError, parse_tax_percent
from desk_app.views.profile.unapply_dialog import UnapplyDialog
from desk_app.views.view_context import ViewContext
from tests.db_fixtures import actor_named
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import (
    click,
    clipped_cells,
    invoice_in,
    named,
    open_on_invoice,
    open_profile,
    open_with,
    select_row,
    sell_item,
    type_into,
    wait_closed,
)

pytestmark = pytest.mark.gui

MADDY = "Maddy Ødegård-Nguyễn"


def figures(view: ProfileView) -> tuple[str, str]:
    owing = view.findChild(QLabel, "balanceOwing")
    credit = view.findChild(QLabel, "availableCredit")
    assert owing is not None and credit is not None
    return owing.text(), credit.text()


def money(cents: int) -> str:
    return format_money(cents, "CAD")


def test_maddys_profile_shows_the_ledgers_owing_and_credit(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    owed_before = demo_services.ledger.balance(front_desk, maddy_id).owing_cents
    sell_item(demo_services, front_desk, maddy_id, 4250)
    view = open_profile(qtbot, view_ctx, maddy_id)
    assert view.header.name.text() == MADDY

    balance = demo_services.ledger.balance(front_desk, maddy_id)
    assert balance.owing_cents == owed_before + 4250 and balance.credit_cents > 0
    assert figures(view) == (money(balance.owing_cents), money(balance.credit_cents))
    assert WARM in view.header.owing.value.styleSheet()  # owing stands out
    summary = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert view.billing.invoices.rowCount() == len(summary.invoices)
    assert view.billing.payments.rowCount() == len(summary.payments)
    assert view.billing.allocations.rowCount() == len(summary.allocations)
    assert view.patient_id == maddy_id

    # Reloading (after a sync, say) fetches the same figures and names the tab again.
    with qtbot.waitSignal(view.title_changed, timeout=5_000) as title:
        view.reload()
    wait_idle(qtbot, view_ctx)
    assert title.args == [MADDY]
    assert figures(view) == (money(balance.owing_cents), money(balance.credit_cents))


def test_amounts_are_right_aligned_and_money_formatted(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id)
    model = view.billing.invoices
    first = demo_services.ledger.billing_summary(front_desk, maddy_id).invoices[0]
    total = model.index(0, InvoicesModel.TOTAL)
    assert total.data() == money(first.total_cents)
    align = Qt.AlignmentFlag(total.data(Qt.ItemDataRole.TextAlignmentRole))
    assert align & Qt.AlignmentFlag.AlignRight
    item = Qt.AlignmentFlag(
        model.index(0, InvoicesModel.ITEM).data(Qt.ItemDataRole.TextAlignmentRole)
    )
    assert not item & Qt.AlignmentFlag.AlignRight


def test_billing_tables_show_every_value_in_full_at_the_apps_size(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    sell_item(demo_services, front_desk, maddy_id, 123456)
    view = open_profile(qtbot, view_ctx, maddy_id)
    for table in (
        view.billing.invoice_table,
        view.billing.payment_table,
        view.billing.allocation_table,
    ):
        assert table.model().rowCount() > 0
        assert clipped_cells(table) == [], table.accessibleName()
    for name in (
        "Record payment…",
        "Apply credit",
        "Apply payment…",
        "Unapply…",
        "Invoice items…",
        "Delete invoice",
    ):
        button = named(view, QPushButton, name)
        assert button.width() >= button.sizeHint().width(), name


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [
        ("13", 1300),
        ("13%", 1300),
        (" 14.975 ", None),
        ("13.5", 1350),
        ("", 0),
        ("100", 10000),
        ("101", None),
        ("abc", None),
        ("-5", None),
    ],
)
def test_tax_rates_are_read_strictly(typed: str, basis_points: int | None) -> None:
    if basis_points is None:
        with pytest.raises(TaxRateError):
            parse_tax_percent(typed)
    else:
        assert parse_tax_percent(typed) == basis_points


def test_cash_payment_typed_with_symbol_and_comma_is_recorded_and_applied(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    invoice = sell_item(demo_services, front_desk, maddy_id, 8500)
    before = demo_services.ledger.billing_summary(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id)

    dialog = open_with(qtbot, view, "Record payment…", RecordPaymentDialog)
    assert named(dialog, QComboBox, "Method").currentText() == "Cash"
    owing = before.balance.owing_cents  # the insoles, and anything else still owing
    assert named(dialog, QLineEdit, "Amount").text() == money(owing).removeprefix("$")

    type_into(qtbot, dialog, "Amount", "12.345")
    click(qtbot, dialog, "Record payment")
    wait_idle(qtbot, view_ctx)
    assert dialog.isVisible()
    assert "more than 2 decimals" in dialog.amount.error.message
    assert len(demo_services.ledger.billing_summary(front_desk, maddy_id).payments) == len(
        before.payments
    )

    type_into(qtbot, dialog, "Amount", "$1,234.5")
    assert dialog.amount.error.message == ""
    assert f"{money(123450 - owing)} will be left as credit" in dialog.outcome.text()
    type_into(qtbot, dialog, "Reference", "Receipt 42")
    with qtbot.waitSignal(view.balance_changed, timeout=5_000):
        click(qtbot, dialog, "Record payment")
    wait_closed(qtbot, view_ctx, dialog)

    after = demo_services.ledger.billing_summary(front_desk, maddy_id)
    new = [p for p in after.payments if p.id not in {q.id for q in before.payments}]
    assert len(new) == 1
    assert (new[0].method, new[0].amount_cents, new[0].reference) == (
        PaymentMethod.CASH,
        123450,
        "Receipt 42",
    )
    assert invoice_in(after, invoice.invoice_id).balance_cents == 0
    assert after.balance.owing_cents == 0
    assert after.balance.credit_cents == before.balance.credit_cents + 123450 - owing
    assert view.billing.banner.text().startswith("Payment of $1,234.50 recorded")
    assert figures(view) == (money(0), money(after.balance.credit_cents))


def test_unticked_invoice_is_left_owing_and_the_payment_becomes_credit(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    sell_item(demo_services, front_desk, maddy_id, 3000)
    before = demo_services.ledger.balance(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = open_with(qtbot, view, "Record payment…", RecordPaymentDialog)
    for row in dialog.choices.rows:  # keep it all as credit
        dialog.choices.set_checked(row.id, False)
    named(dialog, QComboBox, "Method").setCurrentText("E-transfer")
    type_into(qtbot, dialog, "Amount", " 20 ")
    assert dialog.outcome.text() == "$20.00 will be left as credit"
    click(qtbot, dialog, "Record payment")
    wait_closed(qtbot, view_ctx, dialog)

    after = demo_services.ledger.balance(front_desk, maddy_id)
    assert after.owing_cents == before.owing_cents
    assert after.credit_cents == before.credit_cents + 2000


def test_apply_credit_pays_the_selected_invoice(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    invoice = sell_item(demo_services, front_desk, maddy_id, 8500)
    credit = demo_services.ledger.balance(front_desk, maddy_id).credit_cents
    view = open_profile(qtbot, view_ctx, maddy_id)
    assert not named(view, QPushButton, "Apply credit").isEnabled()  # nothing selected

    dialog = open_on_invoice(qtbot, view, invoice.invoice_id, "Apply credit", ApplyCreditDialog)
    prefilled = min(credit, 8500)  # all the credit it can use
    assert named(dialog, QLineEdit, "Amount").text() == money(prefilled).removeprefix("$")
    type_into(qtbot, dialog, "Amount", "60")
    with qtbot.waitSignal(view.balance_changed, timeout=5_000):
        click(qtbot, dialog, "Apply credit")
    wait_closed(qtbot, view_ctx, dialog)

    summary = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert invoice_in(summary, invoice.invoice_id).balance_cents == 2500
    assert summary.balance.credit_cents == credit - 6000
    assert view.billing.banner.text() == f"$60.00 of credit applied to {invoice.number}."
    assert figures(view) == (money(summary.balance.owing_cents), money(credit - 6000))


def test_apply_credit_more_than_owing_is_refused_in_the_dialog(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    invoice = sell_item(demo_services, front_desk, maddy_id, 2000)
    owing = demo_services.ledger.balance(front_desk, maddy_id).owing_cents
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = open_on_invoice(qtbot, view, invoice.invoice_id, "Apply credit", ApplyCreditDialog)
    type_into(qtbot, dialog, "Amount", "50")
    click(qtbot, dialog, "Apply credit")
    wait_idle(qtbot, view_ctx)
    assert dialog.isVisible()
    assert "only has $20.00 owing" in dialog.amount.error.message
    assert demo_services.ledger.balance(front_desk, maddy_id).owing_cents == owing


def test_apply_a_chosen_payment_to_an_invoice(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    invoice = sell_item(demo_services, front_desk, maddy_id, 3000)
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = open_on_invoice(qtbot, view, invoice.invoice_id, "Apply payment…", ApplyPaymentDialog)
    payment = named(dialog, QComboBox, "Payment")
    chosen = payment.currentData()
    assert named(dialog, QLineEdit, "Amount").text() == "30.00"
    click(qtbot, dialog, "Apply payment")
    wait_closed(qtbot, view_ctx, dialog)

    summary = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert invoice_in(summary, invoice.invoice_id).balance_cents == 0
    assert any(
        a.payment_id == chosen and a.invoice_id == invoice.invoice_id and a.amount_cents == 3000
        for a in summary.allocations
    )


def test_unapply_takes_the_payment_off_and_credit_returns(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    before = demo_services.ledger.billing_summary(front_desk, maddy_id)
    paid = next(i for i in before.invoices if i.applied_cents > 0)
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = open_on_invoice(qtbot, view, paid.id, "Unapply…", UnapplyDialog)
    assert named(dialog, QLineEdit, "Amount").text() == format_money(
        paid.applied_cents, "CAD"
    ).removeprefix("$")  # all of it by default
    with qtbot.waitSignal(view.balance_changed, timeout=5_000):
        click(qtbot, dialog, "Unapply")
    wait_closed(qtbot, view_ctx, dialog)

    after = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert invoice_in(after, paid.id).applied_cents == 0
    assert after.balance.credit_cents == before.balance.credit_cents + paid.applied_cents
    assert after.balance.owing_cents == before.balance.owing_cents + paid.applied_cents
    # The unapply is its own ledger row, shown as a negative amount.
    negative = view.billing.allocations.rows[0]
    assert negative.amount_cents == -paid.applied_cents
    assert figures(view) == (money(after.balance.owing_cents), money(after.balance.credit_cents))


def test_delete_an_unpaid_invoice_after_confirming(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    owed_before = demo_services.ledger.balance(front_desk, maddy_id).owing_cents
    invoice = sell_item(demo_services, front_desk, maddy_id, 4000)
    view = open_profile(qtbot, view_ctx, maddy_id)
    confirm = open_on_invoice(qtbot, view, invoice.invoice_id, "Delete invoice", ConfirmDialog)
    assert confirm.cancel_button.isDefault()  # Enter does not delete
    with qtbot.waitSignal(view.balance_changed, timeout=5_000):
        click(qtbot, confirm, "Delete invoice")
    wait_closed(qtbot, view_ctx, confirm)

    summary = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert invoice_in(summary, invoice.invoice_id).status == InvoiceStatus.DELETED
    assert summary.balance.owing_cents == owed_before
    assert view.billing.banner.text() == f"Invoice {invoice.number} deleted."
    row = next(n for n, r in enumerate(view.billing.invoices.rows) if r.id == invoice.invoice_id)
    greyed = view.billing.invoices.index(row, 0).data(Qt.ItemDataRole.ForegroundRole)
    assert greyed == MUTED_COLOUR
    assert not named(view, QPushButton, "Delete invoice").isEnabled()


def test_cancelling_the_question_deletes_nothing(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    invoice = sell_item(demo_services, front_desk, maddy_id, 4000)
    view = open_profile(qtbot, view_ctx, maddy_id)
    confirm = open_on_invoice(qtbot, view, invoice.invoice_id, "Delete invoice", ConfirmDialog)
    click(qtbot, confirm, "Cancel")
    wait_closed(qtbot, view_ctx, confirm)
    summary = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert invoice_in(summary, invoice.invoice_id).status == InvoiceStatus.OPEN


def test_deleting_a_paid_invoice_says_unapply_the_payment_first(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    paid = next(
        i
        for i in demo_services.ledger.billing_summary(front_desk, maddy_id).invoices
        if i.applied_cents > 0
    )
    view = open_profile(qtbot, view_ctx, maddy_id)
    confirm = open_on_invoice(qtbot, view, paid.id, "Delete invoice", ConfirmDialog)
    click(qtbot, confirm, "Delete invoice")
    wait_closed(qtbot, view_ctx, confirm)

    assert view.billing.banner.kind == "error"
    assert "Unapply the payment first" in view.billing.banner.text()
    summary = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert invoice_in(summary, paid.id).status == InvoiceStatus.OPEN


def test_invoice_a_product_and_a_described_item(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    before = demo_services.ledger.billing_summary(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = open_with(qtbot, view, "Invoice items…", InvoiceItemsDialog)
    named(dialog, QComboBox, "Product").setCurrentText("Exercise band — $18.00, 13%")
    named(dialog, QSpinBox, "Quantity").setValue(2)
    click(qtbot, dialog, "Add item")

    click(qtbot, dialog, "Other item")
    type_into(qtbot, dialog, "Description", "Orthotic insoles")
    type_into(qtbot, dialog, "Price", "120.5")
    type_into(qtbot, dialog, "Tax %", "13.5")
    click(qtbot, dialog, "Add item")
    # 2 x $18.00 + 13% = $40.68; $120.50 + 13.5% = $136.77 (tax rounded half up per line)
    assert dialog.total.text() == "Invoice total $177.45"
    with qtbot.waitSignal(view.balance_changed, timeout=5_000):
        click(qtbot, dialog, "Create invoice")
    wait_closed(qtbot, view_ctx, dialog)

    after = demo_services.ledger.billing_summary(front_desk, maddy_id)
    new = [i for i in after.invoices if i.id not in {j.id for j in before.invoices}]
    assert [(i.description, i.total_cents) for i in new] == [("Exercise band", 17745)]
    assert after.balance.owing_cents == before.balance.owing_cents + 17745
    selected = view.billing.selected_invoice()
    assert selected is not None and selected.id == new[0].id  # ready to take payment on it


def test_invoice_item_with_a_bad_tax_rate_is_refused_inline(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    before = demo_services.ledger.billing_summary(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id)
    dialog = open_with(qtbot, view, "Invoice items…", InvoiceItemsDialog)
    click(qtbot, dialog, "Other item")
    type_into(qtbot, dialog, "Description", "Parking")
    type_into(qtbot, dialog, "Price", "5")
    type_into(qtbot, dialog, "Tax %", "thirteen")
    click(qtbot, dialog, "Create invoice")
    wait_idle(qtbot, view_ctx)
    assert dialog.isVisible()
    errors = [w.text() for w in dialog.findChildren(QLabel, "fieldError") if w.isVisible()]
    assert any("is not a tax rate" in e for e in errors)
    after = demo_services.ledger.billing_summary(front_desk, maddy_id)
    assert len(after.invoices) == len(before.invoices)


def test_receptionist_without_billing_cannot_unapply_or_delete(
    qtbot: QtBot, view_ctx: ViewContext, demo_services: Services, maddy_id: uuid.UUID
) -> None:
    robin = actor_named(demo_services.db, "frontdesk2")  # Front Desk, no Billing flag
    ctx = ViewContext(demo_services, robin, view_ctx.tasks, view_ctx.clinic)
    view = open_profile(qtbot, ctx, maddy_id)
    paid = next(r for r in view.billing.invoices.rows if r.applied_cents > 0)
    select_row(view.billing.invoice_table, paid.id)
    unapply = named(view, QPushButton, "Unapply…")
    delete = named(view, QPushButton, "Delete invoice")
    assert not unapply.isEnabled() and "permission" in unapply.toolTip()
    assert not delete.isEnabled() and "permission" in delete.toolTip()
    assert named(view, QPushButton, "Record payment…").isEnabled()


def test_every_billing_control_and_dialog_is_named(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    invoice = sell_item(demo_services, front_desk, maddy_id, 8500)
    view = open_profile(qtbot, view_ctx, maddy_id)
    assert unnamed_controls(view) == []
    select_row(view.billing.invoice_table, invoice.invoice_id)
    for button, cls in (
        ("Record payment…", RecordPaymentDialog),
        ("Apply credit", ApplyCreditDialog),
        ("Apply payment…", ApplyPaymentDialog),
        ("Invoice items…", InvoiceItemsDialog),
        ("Delete invoice", ConfirmDialog),
    ):
        dialog = open_with(qtbot, view, button, cls)
        assert unnamed_controls(dialog) == [], button
        dialog.reject()
        wait_closed(qtbot, view_ctx, dialog)
    paid = next(r for r in view.billing.invoices.rows if r.applied_cents > 0)
    dialog = open_on_invoice(qtbot, view, paid.id, "Unapply…", UnapplyDialog)
    assert unnamed_controls(dialog) == []
    dialog.reject()


def test_an_invoice_still_owed_stands_out_in_the_list(qtbot: QtBot) -> None:
    when = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    model = InvoicesModel("CAD", "America/Toronto")
    model.set_rows([
        InvoiceRow(uuid.uuid4(), "DEMO-00003", when, "Massage", 13500, 13500, InvoiceStatus.OPEN),
        InvoiceRow(uuid.uuid4(), "DEMO-00002", when, "Massage", 13500, 5000, InvoiceStatus.OPEN),
        InvoiceRow(uuid.uuid4(), "DEMO-00001", when, "Massage", 13500, 0, InvoiceStatus.DELETED),
    ])
    fg, font = Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole
    paid, owed, deleted = (model.index(r, InvoicesModel.BALANCE) for r in range(3))
    assert model.data(owed, fg) == OWING_COLOUR and model.data(owed, font).bold()
    assert model.data(model.index(1, InvoicesModel.STATUS), font).bold()
    assert model.data(model.index(1, InvoicesModel.TOTAL), font) is None  # only what is owed
    assert model.data(paid, fg) is None and model.data(paid, font) is None
    assert model.data(deleted, font).italic() and not model.data(deleted, font).bold()
