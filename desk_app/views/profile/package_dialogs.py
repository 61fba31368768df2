"""The Packages tab's dialogs: sell a package or start a membership, refund, change expiry,
and choose a package to use on an appointment."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from desk_app.models.enums import PlanKind
from desk_app.models.money import format_money
from desk_app.services.package_plans import PlanRow
from desk_app.services.packages import PackageOption, SaleRow
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.money_field import MoneyField

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def plan_choice_text(plan: PlanRow, currency: str) -> str:
    """'10 Massages — $900.00 · 10 uses · No expiry'."""
    uses = "unlimited uses" if plan.uses is None else f"{plan.uses} uses"
    if plan.kind is PlanKind.MEMBERSHIP:
        uses += " per period"
    return f"{plan.name} — {format_money(plan.price_cents, currency)} · {uses} · {plan.expiry_text}"


@dataclass(frozen=True, slots=True)
class SellRequest:
    plan_id: uuid.UUID
    kind: PlanKind
    charge_card: bool


class SellPackageDialog(ActionDialog):
    """Choose what to sell. A package is invoiced now; a membership invoices each period."""

    def __init__(self, patient_name: str, plans: Sequence[PlanRow], currency: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(
            "Sell a package or membership", "Sell",
            f"For {patient_name}. An invoice is created now; a package can be used once it "
            "is fully paid.", parent)
        self.plans = list(plans)
        self.plan = QComboBox()
        for plan in self.plans:
            self.plan.addItem(plan_choice_text(plan, currency), plan.id)
        self.add_field("Package or membership", self.plan, field="plan")
        self.charge_card = QCheckBox("Charge the card on file each period")
        a11y.button_named(self.charge_card)
        self.charge_card.setChecked(True)
        self.body.addWidget(self.charge_card)
        self.plan.currentIndexChanged.connect(self._plan_changed)
        self.first_input = self.plan
        self._plan_changed()
        if not self.plans:
            self.error.show_message("No packages are set up yet: add them in Clinic ▸ "
                                    "Packages & Memberships.")
            self.action_button.setEnabled(False)

    def _plan_changed(self) -> None:
        plan = self._chosen()
        self.charge_card.setVisible(plan is not None and plan.kind is PlanKind.MEMBERSHIP)
        self.action_button.setText("Start membership" if plan is not None
                                   and plan.kind is PlanKind.MEMBERSHIP else "Sell")
        a11y.button_named(self.action_button)

    def _chosen(self) -> PlanRow | None:
        index = self.plan.currentIndex()
        return self.plans[index] if 0 <= index < len(self.plans) else None

    def collect(self) -> SellRequest | None:
        plan = self._chosen()
        if plan is None:
            self.show_field_error("plan", "Choose a package to sell.")
            return None
        return SellRequest(plan.id, plan.kind, self.charge_card.isChecked())


@dataclass(frozen=True, slots=True)
class RefundRequest:
    sale_id: uuid.UUID
    amount_cents: int | None  # None: pro rata
    to: Literal["credit", "card"]


class PackageRefundDialog(ActionDialog):
    def __init__(self, sale: SaleRow, pro_rata_cents: int, paid_cents: int, currency: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(
            "Refund a package", "Refund and close",
            f"{sale.name} · {sale.usage_text} · {format_money(paid_cents, currency)} paid. "
            "The package closes; its remaining uses can no longer be used.", parent)
        self.sale = sale
        self.pro_rata = QRadioButton(
            f"Pro rata for the unused uses: {format_money(pro_rata_cents, currency)}")
        a11y.button_named(self.pro_rata)
        self.chosen = QRadioButton("A chosen amount")
        a11y.button_named(self.chosen)
        self.amount = MoneyField("Amount", currency)
        self.body.insertWidget(0, self.pro_rata)
        self.body.insertWidget(1, self.chosen)
        self.add_field("Amount", self.amount, field="amount")
        self.to_credit = QRadioButton("To account credit")
        a11y.button_named(self.to_credit)
        self.to_card = QRadioButton("Back to the card that paid")
        a11y.button_named(self.to_card)
        self.body.addWidget(QLabel("Refund to:"))
        self.body.addWidget(self.to_credit)
        self.body.addWidget(self.to_card)
        # Two separate choices: how much, and where it goes.
        self.how_much = QButtonGroup(self)
        self.how_much.addButton(self.pro_rata)
        self.how_much.addButton(self.chosen)
        self.where = QButtonGroup(self)
        self.where.addButton(self.to_credit)
        self.where.addButton(self.to_card)
        self.to_credit.setChecked(True)
        if sale.usage.total is None:  # unlimited: no pro rata share
            self.pro_rata.setEnabled(False)
            self.chosen.setChecked(True)
        else:
            self.pro_rata.setChecked(True)
        self.amount.set_amount(pro_rata_cents)
        self.pro_rata.toggled.connect(lambda on: self.amount.setEnabled(not on))
        self.amount.setEnabled(not self.pro_rata.isChecked())
        self.first_input = self.pro_rata

    def collect(self) -> RefundRequest | None:
        amount: int | None = None
        if self.chosen.isChecked():
            amount = self.amount.amount()
            if amount is None:
                return None
        return RefundRequest(self.sale.id, amount,
                             "card" if self.to_card.isChecked() else "credit")


@dataclass(frozen=True, slots=True)
class ExpiryRequest:
    sale_id: uuid.UUID
    expires_on: date | None


class ExpiryDialog(ActionDialog):
    """One sold package's expiry. Blank means it never expires."""

    def __init__(self, sale: SaleRow, parent: QWidget | None = None) -> None:
        super().__init__("Change expiry", "Save", f"{sale.name} · {sale.usage_text}. "
                         "Leave the date blank and the package never expires.", parent)
        self.sale = sale
        self.date = QLineEdit(sale.usage.expires_on.isoformat() if sale.usage.expires_on else "")
        self.date.setPlaceholderText("YYYY-MM-DD, or blank for never")
        self.add_field("Expires on", self.date, field="expires_on")
        self.first_input = self.date

    def collect(self) -> ExpiryRequest | None:
        raw = self.date.text().strip()
        if not raw:
            return ExpiryRequest(self.sale.id, None)
        try:
            if not _ISO.match(raw):
                raise ValueError
            return ExpiryRequest(self.sale.id, date.fromisoformat(raw))
        except ValueError:
            self.show_field_error("expires_on", f"“{raw}” is not a date. Type it as "
                                  "year-month-day, for example 2027-03-01, or leave it blank.")
            return None


class UsePackageDialog(ActionDialog):
    """Choose the package that pays for a visit; the ones that cannot say which rule stops them."""

    def __init__(self, visit: str, options: Sequence[PackageOption],
                 parent: QWidget | None = None) -> None:
        super().__init__("Use a package", "Use package", visit, parent)
        self.options = [o for o in options if not o.refusal]
        self.package = QComboBox()
        for option in self.options:
            self.package.addItem(f"{option.name} — {option.usage_text}", option.sale_id)
        self.add_field("Package", self.package, field="package")
        refused = [o for o in options if o.refusal]
        self.refusals = QLabel("\n".join(f"• {o.name}: {o.refusal}" for o in refused))
        self.refusals.setObjectName("muted")
        self.refusals.setWordWrap(True)
        self.refusals.setVisible(bool(refused))
        self.body.addWidget(self.refusals)
        if not self.options:
            self.error.show_message("None of this patient's packages can pay for this visit.")
            self.action_button.setEnabled(False)
        self.first_input = self.package

    def collect(self) -> uuid.UUID | None:
        index = self.package.currentIndex()
        if not 0 <= index < len(self.options):
            self.show_field_error("package", "Choose a package.")
            return None
        return self.options[index].sale_id
