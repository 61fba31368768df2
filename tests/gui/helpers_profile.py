"""Driving the patient profile the way a receptionist does: by the names of its controls."""

from __future__ import annotations

import uuid
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QLineEdit,
    QRadioButton,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desk_app.services.actor import Actor
from desk_app.services.invoicing import InvoiceCreated, LineSpec
from desk_app.services.ledger import BillingSummary, InvoiceRow
from desk_app.services.registry import Services
from desk_app.views.profile.profile_view import ProfileView
from desk_app.views.profile.table_model import ROW_ROLE
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers import find

W = TypeVar("W", bound=QWidget)

#: The profile's size in the app: a 1280x800 window less the ~320 px search pane.
PROFILE_SIZE = (960, 720)


def open_profile(
    qtbot: QtBot, ctx: ViewContext, patient_id: uuid.UUID, tab: str = ""
) -> ProfileView:
    """The profile at the app's size, loaded; showing the tab titled `tab`, if one is named."""
    view = ProfileView(ctx, patient_id)
    qtbot.addWidget(view)
    view.resize(*PROFILE_SIZE)
    view.show()
    wait_idle(qtbot, ctx)
    if tab:
        show_tab(view, tab)
        wait_idle(qtbot, ctx)  # tabs other than Billing load when first shown
    return view


def show_tab(view: ProfileView, title: str) -> None:
    """Bring the profile's tab titled `title` to the front."""
    titles = [view.tabs.tabText(index) for index in range(view.tabs.count())]
    view.tabs.setCurrentIndex(titles.index(title))


def named(root: QWidget, cls: type[W], name: str) -> W:
    """The one visible `cls` under `root` whose accessible name is `name`."""
    return find(root, cls, name, visible=True)


def click(qtbot: QtBot, root: QWidget, name: str) -> None:
    """Click the enabled button (or checkbox) called `name`."""
    button = named(root, QAbstractButton, name)
    assert button.isEnabled(), f"{name!r} is disabled: {button.toolTip()}"
    if isinstance(button, QCheckBox | QRadioButton):
        # On the box itself: a check box stretched across a form is not clickable everywhere.
        at = QPoint(min(10, button.width() // 2), button.height() // 2)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=at)
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot: QtBot, root: QWidget, name: str, text: str) -> QLineEdit:
    edit = named(root, QLineEdit, name)
    edit.selectAll()
    edit.clear()
    qtbot.keyClicks(edit, text)
    return edit


def open_dialog(qtbot: QtBot, parent: QWidget, cls: type[W]) -> W:
    """The `cls` dialog the last action opened (dialogs open without blocking)."""

    def shown() -> list[W]:
        return [d for d in parent.findChildren(cls) if d.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=5_000)
    return shown()[0]


def open_with(qtbot: QtBot, root: QWidget, button: str, cls: type[W]) -> W:
    """Click `button` and return the `cls` dialog it opens."""
    click(qtbot, root, button)
    return open_dialog(qtbot, root, cls)


def open_on_invoice(
    qtbot: QtBot, view: ProfileView, invoice_id: uuid.UUID, button: str, cls: type[W]
) -> W:
    """Select the invoice on the Billing tab, click `button`, return the `cls` dialog opened."""
    select_row(view.billing.invoice_table, invoice_id)
    return open_with(qtbot, view, button, cls)


def wait_closed(qtbot: QtBot, ctx: ViewContext, dialog: QWidget) -> None:
    """Wait until the action's call came back and `dialog` closed (dialogs delete on close)."""
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(), timeout=5_000)


def select_row(view: QTableView, wanted: object) -> None:
    """Select the row whose row object equals `wanted` (or has `wanted` as its id)."""
    model = view.model()
    for row in range(model.rowCount()):
        item = model.index(row, 0).data(ROW_ROLE)
        if item == wanted or getattr(item, "id", None) == wanted:
            view.selectRow(row)
            return
    raise LookupError(f"no row {wanted!r} in {view.accessibleName()}")


def invoice_in(summary: BillingSummary, invoice_id: uuid.UUID) -> InvoiceRow:
    return next(i for i in summary.invoices if i.id == invoice_id)


def sell_item(
    services: Services, actor: Actor, patient_id: uuid.UUID, cents: int = 8500
) -> InvoiceCreated:
    """An unpaid invoice for something sold at the desk (no tax, so its total is `cents`)."""
    return services.invoicing.create_invoice(
        actor, patient_id, [LineSpec("Orthotic insoles fitting", cents, 0, 1)]
    )


def clipped_cells(view: QTableView) -> list[str]:
    """Cell texts wider than their column (they would show as 'Physio ini…')."""
    model = view.model()
    metrics = view.fontMetrics()
    clipped = []
    for column in range(model.columnCount()):
        room = view.columnWidth(column) - CELL_MARGINS
        for row in range(model.rowCount()):
            text = str(model.index(row, column).data() or "")
            if metrics.horizontalAdvance(text) > room:
                clipped.append(text)
    return clipped


#: The item padding (4 px a side) and the style's own text margins.
CELL_MARGINS = 16
