"""Setting up or editing one package or membership: its terms and its eligible items."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from desk_app.models.enums import ExpiryUnit, PlanKind, Recurrence
from desk_app.services.appointments import Choice
from desk_app.services.package_plans import EligibleItem, PlanInput, PlanRow
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.tax_rate import TaxRateError, parse_tax_percent, percent_text

_EXPIRY = (("No expiry", ExpiryUnit.NONE), ("Days after sale", ExpiryUnit.DAYS),
           ("Months after sale", ExpiryUnit.MONTHS))


def _checkbox(label: str) -> QCheckBox:
    box = QCheckBox(label)
    a11y.button_named(box)
    return box


class EligibleItems(QWidget):
    """One row per treatment type: a tick to make it eligible, and an optional limit."""

    def __init__(self, treatments: Sequence[Choice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.rows: list[tuple[Choice, QCheckBox, QSpinBox]] = []
        for i, treatment in enumerate(treatments):
            tick = _checkbox(treatment.label)
            limit = QSpinBox()
            limit.setRange(0, 1000)
            limit.setSpecialValueText("No limit")
            limit.setPrefix("At most ")
            a11y.name(limit, f"Limit for {treatment.label}")
            limit.setEnabled(False)
            tick.toggled.connect(limit.setEnabled)
            grid.addWidget(tick, i, 0)
            grid.addWidget(limit, i, 1)
            self.rows.append((treatment, tick, limit))
        grid.setColumnStretch(0, 1)

    def set_items(self, items: Sequence[EligibleItem]) -> None:
        wanted = {i.treatment_type_id: i.max_uses for i in items}
        for treatment, tick, limit in self.rows:
            tick.setChecked(treatment.id in wanted)
            limit.setValue(wanted.get(treatment.id) or 0)

    def items(self) -> list[EligibleItem]:
        return [EligibleItem(t.id, limit.value() or None)
                for t, tick, limit in self.rows if tick.isChecked()]


class PlanDialog(ActionDialog):
    """Emits a PlanInput; the settings dialog saves it (and asks about sold packages)."""

    def __init__(self, kind: PlanKind, treatments: Sequence[Choice], currency: str,
                 plan: PlanRow | None = None, parent: QWidget | None = None) -> None:
        noun = kind.label.lower()
        super().__init__(f"Edit {noun}" if plan else f"New {noun}", "Save",
                         "Packages are sold once; memberships invoice every period and charge "
                         "the card on file." if plan is None else plan.name, parent)
        self.kind = kind
        self.plan = plan
        self.name = QLineEdit()
        self.add_field("Name", self.name, field="name")
        self.price = MoneyField("Price", currency)
        self.add_field("Price", self.price, field="price")
        self.tax = QLineEdit()
        self.tax.setPlaceholderText("13 for 13%; blank for no tax")
        self.add_field("Tax rate", self.tax, field="tax")
        self.income = QLineEdit()
        self.add_field("Income category", self.income, field="income_category")
        uses_row = QWidget()
        uses_layout = QHBoxLayout(uses_row)
        uses_layout.setContentsMargins(0, 0, 0, 0)
        self.uses = QSpinBox()
        self.uses.setRange(1, 1000)
        self.uses.setValue(10)
        a11y.name(self.uses, "Number of uses")
        self.unlimited = _checkbox("Unlimited")
        self.unlimited.toggled.connect(lambda on: self.uses.setEnabled(not on))
        uses_layout.addWidget(self.uses)
        uses_layout.addWidget(self.unlimited)
        uses_layout.addStretch(1)
        caption = QLabel("Number of uses" + (" per period" if kind is PlanKind.MEMBERSHIP
                                             else ""))
        caption.setBuddy(self.uses)
        self.form.addRow(caption, uses_row)
        self.expiry = QComboBox()
        self.expiry_count = QSpinBox()
        self.expiry_count.setRange(1, 3650)
        a11y.name(self.expiry_count, "Expires after")
        self.recurrence = QComboBox()
        if kind is PlanKind.MEMBERSHIP:
            for recurrence in Recurrence:
                self.recurrence.addItem(recurrence.label, recurrence)
            self.recurrence.setCurrentIndex(1)
            self.add_field("Renews", self.recurrence, field="recurrence")
        else:
            for label, unit in _EXPIRY:
                self.expiry.addItem(label, unit)
            expiry_row = QWidget()
            expiry_layout = QHBoxLayout(expiry_row)
            expiry_layout.setContentsMargins(0, 0, 0, 0)
            expiry_layout.addWidget(self.expiry, 1)
            expiry_layout.addWidget(self.expiry_count)
            self.expiry.currentIndexChanged.connect(self._expiry_changed)
            self._expiry_changed()
            a11y.name(self.expiry, "Expiry")
            a11y.name(self.expiry.view(), "Expiry choices")
            expiry_caption = QLabel("Expiry")
            expiry_caption.setBuddy(self.expiry)
            self.form.addRow(expiry_caption, expiry_row)
        self.additional = MoneyField("Additional charge per visit", currency)
        self.add_field("Additional charge per visit", self.additional,
                       field="additional_charge")
        self.auto_select = _checkbox("Auto-select on eligible appointments")
        self.auto_redeem = _checkbox("Auto-redeem on online bookings")
        self.shared = _checkbox("Shared with household")
        for box in (self.auto_select, self.auto_redeem, self.shared):
            self.body.addWidget(box)
        items_caption = QLabel("Eligible items (tick each treatment; a limit caps its uses "
                               "inside one package):")
        items_caption.setWordWrap(True)
        self.body.addWidget(items_caption)
        self.items = EligibleItems(treatments)
        self.body.addWidget(self.items)
        self.first_input = self.name
        # Many rows, some growing an error line: never let the window squeeze them.
        layout = self.layout()
        if layout is not None:
            layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        if plan is not None:
            self._fill(plan)

    def _expiry_changed(self) -> None:
        unit = self.expiry.currentData()
        self.expiry_count.setEnabled(unit is not None and ExpiryUnit(unit) is not ExpiryUnit.NONE)

    def _fill(self, plan: PlanRow) -> None:
        self.name.setText(plan.name)
        self.price.set_amount(plan.price_cents)
        self.tax.setText("" if plan.tax_rate_bp == 0 else percent_text(plan.tax_rate_bp))
        self.income.setText(plan.income_category)
        self.unlimited.setChecked(plan.uses is None)
        self.uses.setValue(plan.uses or 10)
        if plan.recurrence is not None:
            self.recurrence.setCurrentIndex(self.recurrence.findData(plan.recurrence))
        else:
            self.expiry.setCurrentIndex(self.expiry.findData(plan.expiry_unit))
            self.expiry_count.setValue(max(plan.expiry_count, 1))
        if plan.additional_charge_cents:
            self.additional.set_amount(plan.additional_charge_cents)
        self.auto_select.setChecked(plan.auto_select)
        self.auto_redeem.setChecked(plan.auto_redeem_online)
        self.shared.setChecked(plan.shared_with_household)
        self.items.set_items([EligibleItem(i.treatment_type_id, i.max_uses) for i in plan.items])

    def collect(self) -> PlanInput | None:
        self.clear_errors()
        price = self.price.amount()
        if price is None:
            return None
        try:
            tax = parse_tax_percent(self.tax.text())
        except TaxRateError as exc:
            self.show_field_error("tax", str(exc))
            return None
        additional = 0
        if self.additional.text().strip():
            peeked = self.additional.amount()
            if peeked is None:
                return None
            additional = peeked
        membership = self.kind is PlanKind.MEMBERSHIP
        unit = ExpiryUnit.NONE if membership else ExpiryUnit(self.expiry.currentData())
        return PlanInput(
            name=self.name.text(), price_cents=price, items=self.items.items(),
            uses=None if self.unlimited.isChecked() else self.uses.value(), kind=self.kind,
            tax_rate_bp=tax, income_category=self.income.text(), expiry_unit=unit,
            expiry_count=0 if unit is ExpiryUnit.NONE else self.expiry_count.value(),
            recurrence=Recurrence(self.recurrence.currentData()) if membership else None,
            additional_charge_cents=additional, auto_select=self.auto_select.isChecked(),
            auto_redeem_online=self.auto_redeem.isChecked(),
            shared_with_household=self.shared.isChecked(),
        )
