"""The Packages tab: the patient's packages and memberships, their usage, and selling,
deleting an unpaid one, refunding and changing expiry."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from desk_app.models.enums import PlanKind
from desk_app.models.money import format_money
from desk_app.services.package_plans import PlanRow
from desk_app.services.package_terms import SaleStatus
from desk_app.services.packages import RefundResult, SaleRow
from desk_app.services.permissions import Permission
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.package_dialogs import (
    ExpiryDialog,
    ExpiryRequest,
    PackageRefundDialog,
    RefundRequest,
    SellPackageDialog,
    SellRequest,
)
from desk_app.views.profile.package_models import SalesModel
from desk_app.views.profile.tab_parts import TableTab, action_button, allow
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.view_context import ViewContext

_SAMPLES = {
    SalesModel.PACKAGE: "10 Massage visits",
    SalesModel.SOLD: "Sep 30, 2026",
    SalesModel.INVOICE: "DESK10-00000",
    SalesModel.STATUS: "Awaiting payment",
    SalesModel.USAGE: "10 of 10 used, 0 left, expires 2027-03-01",
    SalesModel.PRICE: "$1,017.00",
}


class PackagesTab(TableTab):
    #: An invoice, payment or credit changed: the profile reloads billing.
    balance_changed = Signal()

    def __init__(self, ctx: ViewContext, patient_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, patient_id, parent)
        self.model = SalesModel(ctx.clinic.currency, ctx.clinic.time_zone)
        self.model.patient_id = patient_id
        #: The dialog opened last (tests and screenshots reach it here).
        self.open_dialog: ActionDialog | None = None
        self.table = profile_table("Packages and memberships", self.model, _SAMPLES,
                                   stretch=SalesModel.PACKAGE)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.sell_button = action_button("Sell package…", self.open_sell)
        self.sell_button.setProperty("primary", True)
        self.delete_button = action_button("Delete unpaid package", self.delete_unpaid)
        self.refund_button = action_button("Refund package…", self.open_refund)
        self.expiry_button = action_button("Change expiry…", self.open_expiry)
        self.cancel_membership_button = action_button("Cancel membership",
                                                      self.cancel_membership)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.sell_button)
        buttons.addSpacing(12)
        for button in (self.expiry_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_membership_button)
        buttons.addWidget(self.refund_button)
        self.lay_out(buttons, [("Packages and memberships", self.table, 1)])
        self._update_actions()

    # ----- loading ---------------------------------------------------------------------------

    _stale = True  # loads when first shown (TableTab)

    def reload(self) -> None:
        self._stale = False
        actor, pid = self.ctx.actor, self.patient_id
        self.call(lambda: self.ctx.services.packages.sales_for_patient(actor, pid),
                  self._loaded, "Packages could not be loaded: ")

    def _loaded(self, rows: list[SaleRow]) -> None:
        keep = self._row_to_select()
        self.model.set_rows(rows)
        if keep is not None:
            select_id(self.table, self.model.rows, keep)
        self._update_actions()

    def selected_sale(self) -> SaleRow | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def selected_id(self) -> uuid.UUID | None:
        chosen = self.selected_sale()
        return None if chosen is None else chosen.id

    def _update_actions(self) -> None:
        chosen = self.selected_sale()
        pick = "Select a package first."
        allow(self.sell_button, self.ctx.can(Permission.CREATE_INVOICE),
              "You do not have permission to create invoices.")
        open_ = chosen is not None and chosen.status is not SaleStatus.CLOSED
        own = chosen is not None and chosen.patient_id == self.patient_id
        for button, permission, extra in (
            (self.delete_button, Permission.DELETE_INVOICE,
             chosen is not None and chosen.paid_cents == 0),
            (self.refund_button, Permission.REFUND, True),
            (self.expiry_button, Permission.MANAGE_PACKAGES, True),
        ):
            if not self.ctx.can(permission):
                allow(button, False, f"You do not have permission to {permission.value}.")
            elif chosen is None:
                allow(button, False, pick)
            elif not open_:
                allow(button, False, "This package is closed.")
            elif not own:
                allow(button, False, "This package belongs to another household member; "
                      "open their profile.")
            elif not extra:
                allow(button, False, "A payment is applied to this package's invoice: unapply "
                      "the payment first (Billing tab).")
            else:
                allow(button, True, "")

        if not self.ctx.can(Permission.CREATE_INVOICE):
            allow(self.cancel_membership_button, False,
                  "You do not have permission to create invoices.")
        elif chosen is None or chosen.membership_id is None:
            allow(self.cancel_membership_button, False, "Select a membership first.")
        elif chosen.membership_cancelled:
            allow(self.cancel_membership_button, False, "This membership is already cancelled.")
        else:
            allow(self.cancel_membership_button, True, "")

    # ----- actions ---------------------------------------------------------------------------

    def open_sell(self) -> None:
        actor = self.ctx.actor
        self.call(lambda: self.ctx.services.package_plans.plans(actor), self._show_sell)

    def _show_sell(self, plans: list[PlanRow]) -> None:
        dialog = SellPackageDialog(self.patient_name, plans, self.ctx.clinic.currency, self)
        dialog.submitted.connect(lambda request: self._sell(dialog, request))
        dialog.open()
        self.open_dialog = dialog

    def _sell(self, dialog: SellPackageDialog, request: SellRequest) -> None:
        actor, pid, services = self.ctx.actor, self.patient_id, self.ctx.services
        what = dialog.plan.currentText().split(" — ")[0]

        def work() -> object:
            if request.kind is PlanKind.MEMBERSHIP:
                return services.memberships.start(actor, pid, request.plan_id,
                                                  charge_card=request.charge_card)
            return services.packages.sell(actor, pid, request.plan_id)

        def done(result: object) -> None:
            if request.kind is PlanKind.MEMBERSHIP:
                billed = result[0] if isinstance(result, list) and result else None
                tail = "" if billed is None or billed.charged else f" {billed.message}"
                self.banner.show_success(f"Started {what}; its first period is invoiced.{tail}")
            else:
                number = getattr(result, "invoice_number", "")
                self._select_after_load = getattr(result, "sale_id", None)
                self.banner.show_success(
                    f"Sold {what} on invoice {number}. It can be used once fully paid.")
            self.reload()
            self.balance_changed.emit()

        # A membership charges the card on file (Stripe): that runs on the network pool.
        self.banner.clear_message()
        submit_from(self.ctx, self, dialog, work, done,
                    network=request.kind is PlanKind.MEMBERSHIP)

    def delete_unpaid(self) -> None:
        chosen = self.selected_sale()
        if chosen is None:
            return
        dialog = ConfirmDialog(
            "Delete unpaid package",
            f"Delete {chosen.name} and its invoice {chosen.invoice_number}? Nothing is paid "
            "on it.", "Delete package", self)
        actor, packages = self.ctx.actor, self.ctx.services.packages

        def done(_none: None) -> None:
            self.banner.show_success(f"Deleted {chosen.name} and invoice "
                                     f"{chosen.invoice_number}.")
            self.reload()
            self.balance_changed.emit()

        dialog.submitted.connect(lambda _r: self.submit(
            dialog, lambda: packages.delete_unpaid(actor, chosen.id), done))
        dialog.open()
        self.open_dialog = dialog

    def cancel_membership(self) -> None:
        chosen = self.selected_sale()
        if chosen is None or chosen.membership_id is None:
            return
        membership_id = chosen.membership_id
        dialog = ConfirmDialog(
            "Cancel membership",
            f"Cancel {chosen.name}? No further periods are invoiced or charged; this period's "
            "uses can still be used.", "Cancel membership", self)
        actor, memberships = self.ctx.actor, self.ctx.services.memberships

        def done(_none: None) -> None:
            self.banner.show_success(f"Cancelled {chosen.name}; nothing more will be invoiced.")
            self.reload()

        dialog.submitted.connect(lambda _r: self.submit(
            dialog, lambda: memberships.cancel(actor, membership_id), done))
        dialog.open()
        self.open_dialog = dialog

    def open_refund(self) -> None:
        chosen = self.selected_sale()
        if chosen is None:
            return
        actor, packages = self.ctx.actor, self.ctx.services.packages
        self.call(lambda: packages.refund_preview(actor, chosen.id),
                  lambda preview: self._show_refund(chosen, preview))

    def _show_refund(self, sale: SaleRow, preview: tuple[int, int]) -> None:
        dialog = PackageRefundDialog(sale, preview[0], preview[1], self.ctx.clinic.currency,
                                     self)
        dialog.submitted.connect(lambda request: self._refund(dialog, request))
        dialog.open()
        self.open_dialog = dialog

    def _refund(self, dialog: PackageRefundDialog, request: RefundRequest) -> None:
        actor, packages = self.ctx.actor, self.ctx.services.packages
        currency = self.ctx.clinic.currency

        def done(result: RefundResult) -> None:
            where = "the card" if result.to == "card" else "account credit"
            money = format_money(result.amount_cents, currency)
            if result.message:
                self.banner.show_error(f"The package is closed, but the card refund did not "
                                       f"go through: {result.message}")
            else:
                self.banner.show_success(f"Refunded {money} to {where}; the package is closed.")
            self.reload()
            self.balance_changed.emit()

        # A refund to the card calls Stripe: it runs on the network pool.
        self.banner.clear_message()
        submit_from(self.ctx, self, dialog,
                    lambda: packages.refund(actor, request.sale_id,
                                            amount_cents=request.amount_cents, to=request.to),
                    done, network=request.to == "card")

    def open_expiry(self) -> None:
        chosen = self.selected_sale()
        if chosen is None:
            return
        dialog = ExpiryDialog(chosen, self)
        dialog.submitted.connect(lambda request: self._set_expiry(dialog, request))
        dialog.open()
        self.open_dialog = dialog

    def _set_expiry(self, dialog: ExpiryDialog, request: ExpiryRequest) -> None:
        actor, packages = self.ctx.actor, self.ctx.services.packages

        def done(_none: None) -> None:
            when = request.expires_on.isoformat() if request.expires_on else "never"
            self.banner.show_success(f"{dialog.sale.name} now expires: {when}.")
            self.reload()

        self.submit(dialog, lambda: packages.set_expiry(actor, request.sale_id,
                                                        request.expires_on), done)
