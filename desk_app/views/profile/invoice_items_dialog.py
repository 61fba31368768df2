"""Invoicing products or other items sold at the desk, one or more lines at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from desk_app.models.money import format_money
from desk_app.services.invoicing import MAX_QUANTITY, LineSpec, ProductChoice, line_amounts
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.money_field import MoneyField
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table, selected_row
from desk_app.views.profile.tax_rate import TaxRateError, parse_tax_percent, percent_text


@dataclass(frozen=True, slots=True)
class PendingLine:
    spec: LineSpec
    description: str
    unit_price_cents: int
    tax_rate_bp: int
    quantity: int

    @property
    def total_cents(self) -> int:
        return line_amounts(self.unit_price_cents, self.quantity, self.tax_rate_bp).total_cents


class PendingLinesModel(RowTableModel[PendingLine]):
    ITEM, QUANTITY, PRICE, TAX, TOTAL = range(5)
    HEADERS = ("Item", "Qty", "Price", "Tax", "Total")
    AMOUNT_COLUMNS: ClassVar[frozenset[int]] = frozenset({QUANTITY, PRICE, TOTAL})

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def cell(self, row: PendingLine, column: int) -> str:
        if column == self.ITEM:
            return row.description
        if column == self.QUANTITY:
            return str(row.quantity)
        if column == self.PRICE:
            return format_money(row.unit_price_cents, self.currency)
        if column == self.TAX:
            return percent_text(row.tax_rate_bp)
        if column == self.TOTAL:
            return format_money(row.total_cents, self.currency)
        return ""


class InvoiceItemsDialog(ActionDialog):
    """Pick a product or describe an item, Add item, repeat; Create invoice bills them all.

    With nothing added yet, Create invoice adds the item being entered first.
    """

    def __init__(
        self,
        patient_name: str,
        products: Sequence[ProductChoice],
        currency: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Invoice items", "Create invoice", patient_name, parent)
        self.setMinimumWidth(620)
        self.currency = currency
        self._products = list(products)

        self.product_kind = QRadioButton("Product")
        self.other_kind = QRadioButton("Other item")
        for radio in (self.product_kind, self.other_kind):
            a11y.button_named(radio)
            radio.toggled.connect(self._show_kind)
        kinds = QWidget()
        row = QHBoxLayout(kinds)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.product_kind)
        row.addWidget(self.other_kind)
        row.addStretch(1)
        self.form.addRow(QLabel("Item is a"), kinds)

        self.product = QComboBox()
        for p in self._products:
            tax = percent_text(p.tax_rate_bp).lower()
            self.product.addItem(f"{p.name} — {format_money(p.price_cents, currency)}, {tax}", p)
        self._product_row = self.add_field("Product", self.product, field="product")
        self.description = QLineEdit()
        self.description.setPlaceholderText("What is being sold, e.g. Orthotic insoles")
        self.description.setMaxLength(300)
        self._other_rows = [self.add_field("Description", self.description, field="description")]
        self.price = MoneyField("Price", currency)
        self._other_rows.append(self.add_field("Price", self.price, field="price"))
        self.tax = QLineEdit()
        self.tax.setPlaceholderText("0")
        self._other_rows.append(self.add_field("Tax %", self.tax, field="tax"))
        self.quantity = QSpinBox()
        self.quantity.setRange(1, MAX_QUANTITY)
        self.add_field("Quantity", self.quantity, field="quantity")

        self.add_button = QPushButton("Add item")
        a11y.button_named(self.add_button)
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_current)
        self.remove_button = QPushButton("Remove item")
        a11y.button_named(self.remove_button)
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self._remove_selected)
        self.lines = PendingLinesModel(currency)
        self.lines.setParent(self)
        self.table = profile_table(
            "Items on this invoice",
            self.lines,
            {
                PendingLinesModel.QUANTITY: "999",
                PendingLinesModel.PRICE: "$1,000.00",
                PendingLinesModel.TAX: "No tax",
                PendingLinesModel.TOTAL: "$10,000.00",
            },
            stretch=PendingLinesModel.ITEM,
        )
        self.table.setMinimumHeight(130)
        self.total = QLabel()
        self.total.setStyleSheet("font-weight: 600;")
        actions = QHBoxLayout()
        actions.addWidget(self.add_button)
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        actions.addWidget(self.total)
        self.body.addLayout(actions)
        self.body.addWidget(self.table)

        (self.product_kind if self._products else self.other_kind).setChecked(True)
        self.product_kind.setEnabled(bool(self._products))
        self._show_kind()
        self._update_total()
        self.first_input = self.product if self._products else self.description

    # ----- entering lines ------------------------------------------------------------------

    def add_current(self) -> bool:
        """Add the item being entered to the list; False after showing what to fix."""
        line = self._current_line()
        if line is None:
            return False
        self.lines.set_rows([*self.lines.rows, line])
        self.description.clear()
        self.price.set_text("")
        self.tax.clear()
        self.quantity.setValue(1)
        self._update_total()
        return True

    def _current_line(self) -> PendingLine | None:
        self.clear_errors()
        quantity = self.quantity.value()
        if self.product_kind.isChecked():
            product = self.product.currentData()
            if not isinstance(product, ProductChoice):
                self.show_field_error("product", "Choose a product.")
                return None
            spec = LineSpec(product_id=product.id, quantity=quantity)
            return PendingLine(
                spec, product.name, product.price_cents, product.tax_rate_bp, quantity
            )
        description = " ".join(self.description.text().split())
        if not description:
            self.show_field_error("description", "Describe the item being invoiced.")
            return None
        price = self.price.amount()
        if price is None:
            return None
        try:
            tax = parse_tax_percent(self.tax.text())
        except TaxRateError as exc:
            self.show_field_error("tax", str(exc))
            return None
        spec = LineSpec(description, price, tax, quantity)
        return PendingLine(spec, description, price, tax, quantity)

    def _remove_selected(self) -> None:
        index = selected_row(self.table)
        if index is None:
            return
        rows = self.lines.rows
        del rows[index]
        self.lines.set_rows(rows)
        self._update_total()

    def _show_kind(self) -> None:
        product = self.product_kind.isChecked()
        self.form.setRowVisible(self._product_row, product)
        for row in self._other_rows:
            self.form.setRowVisible(row, not product)
        self.clear_errors()

    def _update_total(self) -> None:
        total = sum(line.total_cents for line in self.lines.rows)
        count = self.lines.rowCount()
        self.total.setText(
            f"Invoice total {format_money(total, self.currency)}" if count else "No items yet"
        )
        self.remove_button.setEnabled(count > 0)

    # ----- submitting ----------------------------------------------------------------------

    def collect(self) -> list[LineSpec] | None:
        if self.lines.rowCount() == 0 and not self.add_current():
            return None
        return [line.spec for line in self.lines.rows]
