"""Reports ▸ Package & Membership Usage and Package Sales: filters, tables, CSV export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk_app.models.enums import PlanKind
from desk_app.models.money import format_money
from desk_app.services.appointments import BookingOptions
from desk_app.services.clock import clinic_today
from desk_app.services.package_plans import PlanRow
from desk_app.services.package_reports import SaleReportRow, UsageFilter, UsageRow
from desk_app.views import a11y
from desk_app.views.forms import DialogHeader, FormDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.tab_parts import action_button
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table
from desk_app.views.view_context import ViewContext


class UsageModel(RowTableModel[UsageRow]):
    PATIENT, PACKAGE, TYPE, PERIOD, TO_DATE, LEFT, EXPIRES = range(7)
    HEADERS = ("Patient", "Package or membership", "Type", "Uses in period", "Uses to date",
               "Uses left", "Expires")
    AMOUNT_COLUMNS = frozenset({PERIOD, TO_DATE, LEFT})

    def cell(self, row: UsageRow, column: int) -> str:
        values = (row.patient, row.package, row.kind.label, str(row.uses_in_period),
                  str(row.uses_to_date), row.left_text,
                  row.expires_on.isoformat() if row.expires_on else "Never")
        return values[column] if 0 <= column < len(values) else ""


class SalesReportModel(RowTableModel[SaleReportRow]):
    SOLD, PATIENT, PACKAGE, INVOICE, PRICE, PAID, REFUNDED, CLOSED = range(8)
    HEADERS = ("Sold on", "Patient", "Package or membership", "Invoice", "Price", "Paid",
               "Refunded", "Closed")
    AMOUNT_COLUMNS = frozenset({PRICE, PAID, REFUNDED})

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def cell(self, row: SaleReportRow, column: int) -> str:
        money = self.currency
        values = (row.sold_on.isoformat(), row.patient, row.package, row.invoice_number,
                  format_money(row.price_cents, money), format_money(row.paid_cents, money),
                  format_money(row.refunded_cents, money), row.closed)
        return values[column] if 0 <= column < len(values) else ""


def _date_edit(label: str, day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    a11y.name(edit, label)
    return edit


def _day(edit: QDateEdit) -> date:
    chosen = edit.date()
    return date(chosen.year(), chosen.month(), chosen.day())


class PackageReportsDialog(FormDialog):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Package & Membership reports — Front Desk")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(980, 560)
        today = clinic_today(ctx.services.db.clock, ctx.clinic.time_zone)
        self.start = _date_edit("From", today.replace(day=1))
        self.end = _date_edit("To", today)
        self.location = QComboBox()
        self.staff = QComboBox()
        self.plan = QComboBox()
        self.kind = QComboBox()
        self.kind.addItem("Packages and memberships", None)
        self.kind.addItem("Packages", PlanKind.PACKAGE)
        self.kind.addItem("Memberships", PlanKind.MEMBERSHIP)
        filters = QGridLayout()
        filters.setHorizontalSpacing(10)
        for i, (label, widget) in enumerate((
                ("From", self.start), ("To", self.end), ("Location", self.location),
                ("Staff member", self.staff), ("Package or membership", self.plan),
                ("Pass type", self.kind))):
            filters.addWidget(a11y.labelled(label, widget), i // 3, (i % 3) * 2)
            filters.addWidget(widget, i // 3, (i % 3) * 2 + 1)
            if isinstance(widget, QComboBox):
                a11y.name(widget.view(), f"{label} choices")
        for column in (1, 3, 5):
            filters.setColumnStretch(column, 1)
        self.run_button = action_button("Run report", self.run)
        self.run_button.setProperty("primary", True)
        self.export_button = action_button("Export CSV…", self.export)
        self.banner = StatusBanner(self)
        self.usage_model = UsageModel()
        self.sales_model = SalesReportModel(ctx.clinic.currency)
        self.usage_table = profile_table("Usage", self.usage_model, {
            UsageModel.PATIENT: "Madeleine Ødegård-Nguyễn", UsageModel.TYPE: "Membership",
            UsageModel.PERIOD: "Uses in period", UsageModel.TO_DATE: "Uses to date",
            UsageModel.LEFT: "Unlimited", UsageModel.EXPIRES: "2027-03-01"},
            stretch=UsageModel.PACKAGE)
        self.sales_table = profile_table("Sales", self.sales_model, {
            SalesReportModel.SOLD: "2026-11-21", SalesReportModel.PATIENT: "Maddy Nguyễn",
            SalesReportModel.INVOICE: "DESK1-00000", SalesReportModel.PRICE: "$1,017.00",
            SalesReportModel.PAID: "$1,017.00", SalesReportModel.REFUNDED: "$1,017.00",
            SalesReportModel.CLOSED: "Refunded"}, stretch=SalesReportModel.PACKAGE)
        self.tabs = QTabWidget()
        a11y.name(self.tabs, "Reports")
        self.tabs.addTab(self.usage_table, "Package && Membership Usage")
        self.tabs.addTab(self.sales_table, "Package Sales")
        self.totals = QLabel("")
        self.totals.setObjectName("muted")
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addStretch(1)
        buttons.addWidget(self.totals)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(DialogHeader("Package & Membership reports",
                                      "Uses in the period with each patient's uses left, and "
                                      "the packages sold."))
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self._load_choices()

    def _load_choices(self) -> None:
        actor, services = self.ctx.actor, self.ctx.services

        def work() -> tuple[BookingOptions, list[PlanRow]]:
            return (services.appointments.booking_options(actor),
                    services.package_plans.plans(actor, include_archived=True))

        self.ctx.tasks.db(work, self._choices_loaded,
                          lambda e: self.banner.show_error(message_for(e)), owner=self)

    def _choices_loaded(self, loaded: tuple[BookingOptions, list[PlanRow]]) -> None:
        options, plans = loaded
        for combo, everyone, choices in (
                (self.location, "All locations", [(c.label, c.id) for c in options.locations]),
                (self.staff, "All staff", [(c.label, c.id) for c in options.practitioners]),
                (self.plan, "All packages and memberships", [(p.name, p.id) for p in plans])):
            combo.clear()
            combo.addItem(everyone, None)
            for label, value in choices:
                combo.addItem(label, value)
        self.run()

    def current_filter(self) -> UsageFilter:
        return UsageFilter(
            start=_day(self.start), end=_day(self.end),
            location_id=self.location.currentData(), practitioner_id=self.staff.currentData(),
            plan_id=self.plan.currentData(),
            kind=None if self.kind.currentData() is None else PlanKind(self.kind.currentData()))

    def run(self) -> None:
        """Both reports and their totals are made on the database thread (a year's usage
        report lists about 100,000 packages); the UI thread only hands the rows over."""
        f = self.current_filter()
        actor, reports = self.ctx.actor, self.ctx.services.package_reports
        currency = self.ctx.clinic.currency

        def work() -> tuple[list[UsageRow], list[SaleReportRow], str]:
            usage, sales = reports.usage(actor, f), reports.sales(actor, f)
            paid = sum(r.paid_cents - r.refunded_cents for r in sales)
            uses = sum(r.uses_in_period for r in usage)
            totals = (f"{uses} use{'s' if uses != 1 else ''} · {len(sales)} sold · "
                      f"{format_money(paid, currency)} net paid")
            return usage, sales, totals

        self.banner.clear_message()
        self.ctx.tasks.db(work, self._ran, lambda e: self.banner.show_error(message_for(e)),
                          owner=self)

    def _ran(self, result: tuple[list[UsageRow], list[SaleReportRow], str]) -> None:
        usage, sales, totals = result
        self.usage_model.set_rows(usage)
        self.sales_model.set_rows(sales)
        self.totals.setText(totals)

    def _csv_maker(self) -> Callable[[], str]:
        """What the current tab exports, as a call to make on any thread (the rows shown are
        immutable tuples, so the worker may read them)."""
        reports = self.ctx.services.package_reports
        if self.tabs.currentIndex() == 0:
            usage = self.usage_model.rows
            return lambda: reports.usage_csv(usage)
        sales, currency = self.sales_model.rows, self.ctx.clinic.currency
        return lambda: reports.sales_csv(sales, currency)

    def export(self) -> None:
        name = "package-usage.csv" if self.tabs.currentIndex() == 0 else "package-sales.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", name, "CSV files (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        make_csv = self._csv_maker()
        usage = self.tabs.currentIndex() == 0
        report = "package usage" if usage else "package sales"
        count = len(self.usage_model.rows if usage else self.sales_model.rows)
        reports, actor = self.ctx.services.package_reports, self.ctx.actor

        def export() -> None:
            path.write_text(make_csv(), encoding="utf-8")
            reports.record_export(actor, report, count)

        self.ctx.tasks.db(export,
                          lambda _n: self.banner.show_success(f"Saved {path.name}."),
                          lambda e: self.banner.show_error(message_for(e)), owner=self)
