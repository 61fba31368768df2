"""Clinic ▸ Packages & Memberships (Administrative/All Billing and higher): what the clinic
sells, set up, edited (then "Update Sold Packages" or not) and archived."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desk_app.models.enums import PlanKind
from desk_app.models.money import format_money
from desk_app.services.appointments import BookingOptions
from desk_app.services.package_plans import PlanInput, PlanRow
from desk_app.views.forms import DialogHeader, FormDialog
from desk_app.views.packages.plan_form import PlanDialog
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.tab_parts import action_button, allow
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table, selected_row
from desk_app.views.view_context import ViewContext


class PlansModel(RowTableModel[PlanRow]):
    NAME, TYPE, PRICE, USES, EXPIRY, ITEMS, SOLD = range(7)
    HEADERS = ("Name", "Type", "Price", "Uses", "Expiry", "Eligible items", "Open sold")
    AMOUNT_COLUMNS = frozenset({PRICE, SOLD})

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def cell(self, row: PlanRow, column: int) -> str:
        if column == self.NAME:
            return row.name + (" (archived)" if row.archived else "")
        if column == self.TYPE:
            return row.kind.label
        if column == self.PRICE:
            return format_money(row.price_cents, self.currency)
        if column == self.USES:
            return row.uses_text
        if column == self.EXPIRY:
            return row.expiry_text
        if column == self.ITEMS:
            return ", ".join(i.treatment + (f" (max {i.max_uses})" if i.max_uses else "")
                             for i in row.items)
        if column == self.SOLD:
            return str(row.sold_open)
        return ""

    def is_muted(self, row: PlanRow) -> bool:
        return row.archived


@dataclass(frozen=True, slots=True)
class UpdateSoldChoice:
    update_sold: bool


class UpdateSoldDialog(ActionDialog):
    """After editing a plan with packages already sold: change those too, or only new sales."""

    def __init__(self, plan: PlanRow, parent: QWidget | None = None) -> None:
        super().__init__(
            "Update sold packages?", "Update Sold Packages",
            f"{plan.sold_open} sold package{'s' if plan.sold_open != 1 else ''} of {plan.name} "
            "are still open. Update their name, uses, income category, auto-selection and "
            "eligible items too, or keep the terms they were sold on?", parent)
        self.keep_button = QPushButton("Only new sales")
        self.keep_button.setAccessibleName("Only new sales")
        self.keep_button.clicked.connect(self._keep)
        self.update_sold = True
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        last = layout.itemAt(layout.count() - 1)
        buttons = last.layout() if last is not None else None
        assert isinstance(buttons, QHBoxLayout)
        buttons.insertWidget(buttons.count() - 1, self.keep_button)

    def _keep(self) -> None:
        self.update_sold = False
        self._on_action()

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        self.keep_button.setEnabled(not busy)

    def collect(self) -> UpdateSoldChoice:
        choice = UpdateSoldChoice(self.update_sold)
        self.update_sold = True
        return choice


class PlansDialog(FormDialog):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Packages & Memberships — Front Desk")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(1180, 460)  # eligible items with their limits fit on one line
        self.options: BookingOptions | None = None
        self.billing_workstation = ""
        self.open_dialog: ActionDialog | None = None
        self.model = PlansModel(ctx.clinic.currency)
        self.table = profile_table("Packages and memberships", self.model, {
            PlansModel.NAME: "10 Massages (archived)", PlansModel.TYPE: "Membership",
            PlansModel.PRICE: "$1,000.00", PlansModel.USES: "Unlimited",
            PlansModel.EXPIRY: "12 months after sale", PlansModel.SOLD: "Open sold"},
            stretch=PlansModel.ITEMS)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update())
        self.banner = StatusBanner(self)
        self.add_package = action_button("New package…", lambda: self.open_new(PlanKind.PACKAGE))
        self.add_package.setProperty("primary", True)
        self.add_membership = action_button("New membership…",
                                            lambda: self.open_new(PlanKind.MEMBERSHIP))
        self.edit_button = action_button("Edit…", self.open_edit)
        self.archive_button = action_button("Archive", self.toggle_archive)
        buttons = QHBoxLayout()
        for button in (self.add_package, self.add_membership, self.edit_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.archive_button)
        close = action_button("Close", self.accept)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(DialogHeader("Packages & Memberships",
                                      "What the clinic sells. Editing asks whether packages "
                                      "already sold change too."))
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        # With synced caches one workstation bills memberships (services.membership_billing_desk).
        self.synced = bool(ctx.services.db.capture_changes)
        self.billing_desk = QLabel("")
        self.billing_desk.setObjectName("muted")
        self.bill_here_button = action_button("Bill memberships from this workstation",
                                              self.bill_here)
        bottom = QHBoxLayout()
        bottom.addWidget(self.billing_desk)
        bottom.addWidget(self.bill_here_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        self.billing_desk.setVisible(self.synced)
        self.bill_here_button.setVisible(self.synced)
        layout.addLayout(bottom)
        self._update()
        self.reload()

    def reload(self) -> None:
        actor, services = self.ctx.actor, self.ctx.services

        def work() -> tuple[list[PlanRow], BookingOptions, str]:
            return (services.package_plans.plans(actor, include_archived=True),
                    services.appointments.booking_options(actor),
                    services.memberships.billing_workstation(actor))

        self.ctx.tasks.db(work, self._loaded,
                          lambda e: self.banner.show_error(message_for(e)), owner=self)

    def _loaded(self, loaded: tuple[list[PlanRow], BookingOptions, str]) -> None:
        self.model.set_rows(loaded[0])
        self.options = loaded[1]
        self.billing_workstation = loaded[2]
        here = self.ctx.actor.workstation
        if not self.billing_workstation:
            self.billing_desk.setText("Memberships: billed by the first workstation to run "
                                      "its schedule.")
        elif self.billing_workstation == here:
            self.billing_desk.setText(f"Memberships are billed on this workstation ({here}).")
        else:
            self.billing_desk.setText(
                f"Memberships are billed on workstation {self.billing_workstation}.")
        self._update()

    def bill_here(self) -> None:
        actor, memberships = self.ctx.actor, self.ctx.services.memberships
        self.ctx.tasks.db(lambda: memberships.bill_from_this_workstation(actor),
                          lambda _none: self._saved(
                              f"Memberships are now billed on this workstation "
                              f"({actor.workstation})."),
                          lambda e: self.banner.show_error(message_for(e)), owner=self)

    def selected(self) -> PlanRow | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def _update(self) -> None:
        chosen = self.selected()
        ready = self.options is not None
        allow(self.add_package, ready, "Loading…")
        allow(self.add_membership, ready, "Loading…")
        allow(self.edit_button, chosen is not None and ready, "Select a package first.")
        allow(self.archive_button, chosen is not None, "Select a package first.")
        allow(self.bill_here_button,
              ready and self.billing_workstation != self.ctx.actor.workstation,
              "Memberships are already billed on this workstation.")
        self.archive_button.setText("Restore" if chosen and chosen.archived else "Archive")
        self.archive_button.setAccessibleName(self.archive_button.text())

    def open_new(self, kind: PlanKind) -> None:
        assert self.options is not None
        dialog = PlanDialog(kind, self.options.treatments, self.ctx.clinic.currency,
                            parent=self)
        actor, plans = self.ctx.actor, self.ctx.services.package_plans
        dialog.submitted.connect(lambda data: submit_from(
            self.ctx, self, dialog, lambda: plans.create(actor, data),
            lambda _id: self._saved(f"Set up {data.name.strip()}.")))
        dialog.open()
        self.open_dialog = dialog

    def open_edit(self) -> None:
        chosen = self.selected()
        if chosen is None or self.options is None:
            return
        dialog = PlanDialog(chosen.kind, self.options.treatments, self.ctx.clinic.currency,
                            chosen, self)
        dialog.submitted.connect(lambda data: self._edited(dialog, chosen, data))
        dialog.open()
        self.open_dialog = dialog

    def _edited(self, dialog: PlanDialog, plan: PlanRow, data: PlanInput) -> None:
        actor, plans = self.ctx.actor, self.ctx.services.package_plans
        if plan.sold_open == 0:
            submit_from(self.ctx, self, dialog,
                        lambda: plans.update(actor, plan.id, data, update_sold=False),
                        lambda _n: self._saved(f"Saved {data.name.strip()}."))
            return
        dialog.set_busy(False)
        question = UpdateSoldDialog(plan, dialog)

        def done(changed: int) -> None:
            dialog.finish()
            self._saved(f"Saved {data.name.strip()}; updated {changed} sold package"
                        f"{'s' if changed != 1 else ''}." if changed
                        else f"Saved {data.name.strip()}; sold packages keep their terms.")

        question.submitted.connect(lambda choice: submit_from(
            self.ctx, self, question,
            lambda: plans.update(actor, plan.id, data, update_sold=choice.update_sold), done))
        question.open()
        self.open_dialog = question

    def toggle_archive(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        actor, plans = self.ctx.actor, self.ctx.services.package_plans
        self.ctx.tasks.db(
            lambda: plans.set_archived(actor, chosen.id, not chosen.archived),
            lambda _n: self._saved(f"{'Restored' if chosen.archived else 'Archived'} "
                                   f"{chosen.name}."),
            lambda e: self.banner.show_error(message_for(e)), owner=self)

    def _saved(self, message: str) -> None:
        self.banner.show_success(message)
        self.reload()
