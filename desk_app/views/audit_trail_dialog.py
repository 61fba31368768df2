"""Clinic ▸ Audit trail (Full Access, Administrative/All Billing): who did what, when, at
which workstation; filtered by dates, staff member, kind and words; before/after of the
chosen event; exported to a CSV file the user chooses (the export is audited too)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.appointments import Choice
from desk_app.services.audit_trail import AuditFilter, AuditPage, AuditRow
from desk_app.services.clock import clinic_today
from desk_app.views.a11y import labelled, name
from desk_app.views.forms import DialogHeader, FormDialog, push_button
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table, selected_row
from desk_app.views.view_context import ViewContext

DEFAULT_DAYS = 30
EVERYONE = "Everyone"
EVERYTHING = "Everything"


class AuditModel(RowTableModel[AuditRow]):
    WHEN, WHO, WORKSTATION, KIND, SUMMARY, PATIENT = range(6)
    HEADERS = ("When", "Who", "Workstation", "Kind", "What happened", "Patient")

    def cell(self, row: AuditRow, column: int) -> str:
        if column == self.WHEN:
            return row.at.strftime("%Y-%m-%d %H:%M:%S")
        if column == self.WHO:
            return row.who
        if column == self.WORKSTATION:
            return row.workstation
        if column == self.KIND:
            return row.kind
        if column == self.SUMMARY:
            return row.summary
        if column == self.PATIENT:
            return row.patient
        return ""


def details_text(row: AuditRow) -> str:
    """The chosen event in full: its action, and before/after where it has them."""
    lines = [f"{row.action} · {row.at:%Y-%m-%d %H:%M:%S} · {row.who} at {row.workstation}"]
    if row.summary:
        lines.append(row.summary)
    for part in ("before", "after"):
        if part in row.details:
            lines.append(f"{part.capitalize()}: {json.dumps(row.details[part], sort_keys=True)}")
    rest = {k: v for k, v in row.details.items() if k not in ("before", "after")}
    if rest:
        lines.append(json.dumps(rest, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


class AuditTrailDialog(FormDialog):
    loaded = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._page: AuditPage | None = None
        self.setWindowTitle("Audit trail — Front Desk")
        self.setMinimumSize(1100, 640)
        today = clinic_today(ctx.services.db.clock, ctx.clinic.time_zone)

        self.start = QDateEdit(_qdate(today - timedelta(days=DEFAULT_DAYS)))
        self.end = QDateEdit(_qdate(today))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.staff = QComboBox()
        self.staff.addItem(EVERYONE, None)
        self.kind = QComboBox()
        self.kind.addItem(EVERYTHING, "")
        self.words = QLineEdit()
        self.words.setPlaceholderText("words in what happened")
        self.words.returnPressed.connect(lambda: self.show_page(1))
        self.show_button = push_button("Show", primary=True)
        self.show_button.clicked.connect(lambda: self.show_page(1))

        filters = QHBoxLayout()
        filters.setSpacing(8)
        for label, widget in (("From:", self.start), ("To:", self.end), ("Staff:", self.staff),
                              ("Kind:", self.kind), ("Search:", self.words)):
            filters.addWidget(labelled(label, widget))
            if isinstance(widget, QComboBox):  # its drop-down list is a control too
                widget.view().setAccessibleName(label.rstrip(":"))
            filters.addWidget(widget, 1 if widget is self.words else 0)
        filters.addWidget(self.show_button)

        self.model = AuditModel(self)
        self.table = profile_table(
            "Audit events",
            self.model,
            {
                AuditModel.WHEN: "2026-11-21 14:05:09",
                AuditModel.WHO: "Mireille Gauthier",
                AuditModel.WORKSTATION: "DESK10",
                AuditModel.KIND: "Staff and permissions",
                AuditModel.PATIENT: "Maddy Ødegård-Nguyễn",
            },
            stretch=AuditModel.SUMMARY,
        )
        self.table.selectionModel().selectionChanged.connect(self._show_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(110)
        name(self.details, "Event details")
        self.banner = StatusBanner(self)

        self.page_label = QLabel()
        self.newer_button = push_button("Newer")
        self.newer_button.clicked.connect(lambda: self._step(-1))
        self.older_button = push_button("Older")
        self.older_button.clicked.connect(lambda: self._step(1))
        self.export_button = push_button("Export CSV…")
        self.export_button.clicked.connect(self.choose_export_file)
        self.close_button = push_button("Close")
        self.close_button.clicked.connect(self.accept)
        footer = QHBoxLayout()
        footer.addWidget(self.newer_button)
        footer.addWidget(self.older_button)
        footer.addWidget(self.page_label)
        footer.addStretch(1)
        footer.addWidget(self.export_button)
        footer.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(DialogHeader(
            "Audit trail",
            "Every money action, message, card change, permission change, export and sign-in: "
            "who, when, at which workstation. Nothing here can be changed.",
        ))
        layout.addLayout(filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addWidget(labelled("Details:", self.details))
        layout.addWidget(self.details)
        layout.addLayout(footer)

        trail, actor = ctx.services.audit_trail, ctx.actor
        ctx.tasks.db(lambda: (trail.staff_choices(actor), trail.kinds(actor)),
                     self._choices_loaded, self._failed, owner=self)
        self.show_page(1)

    # ----- loading -------------------------------------------------------------------------

    def current_filter(self) -> AuditFilter:
        staff = self.staff.currentData()
        return AuditFilter(
            start=_pydate(self.start.date()),
            end=_pydate(self.end.date()),
            staff_id=staff if staff else None,
            kind=str(self.kind.currentData() or ""),
            text=self.words.text(),
        )

    def show_page(self, number: int) -> None:
        wanted = self.current_filter()
        trail, actor = self._ctx.services.audit_trail, self._ctx.actor
        self.banner.clear_message()
        self._ctx.tasks.db(lambda: trail.page(actor, wanted, number), self._loaded,
                           self._failed, owner=self)

    def _choices_loaded(self, loaded: tuple[list[Choice], list[tuple[str, str]]]) -> None:
        staff, kinds = loaded
        for choice in staff:
            self.staff.addItem(choice.label, choice.id)
        for kind, label in kinds:
            self.kind.addItem(label, kind)

    def _loaded(self, page: AuditPage) -> None:
        self._page = page
        self.model.set_rows(page.rows)
        self.page_label.setText(
            f"Page {page.number} of {page.pages} · {page.total:,} events"
            if page.total else "No events match these filters."
        )
        self.newer_button.setEnabled(page.number > 1)
        self.older_button.setEnabled(page.number < page.pages)
        self.export_button.setEnabled(page.total > 0)
        if page.rows:
            self.table.selectRow(0)
        else:
            self.details.clear()
        self.loaded.emit()

    def _failed(self, error: BaseException) -> None:
        self.banner.show_error(message_for(error))

    def _step(self, delta: int) -> None:
        if self._page is not None:
            self.show_page(self._page.number + delta)

    def _show_details(self) -> None:
        index = selected_row(self.table)
        row = None if index is None else self.model.row_at(index)
        self.details.setPlainText("" if row is None else details_text(row))

    # ----- export ------------------------------------------------------------------------------

    def choose_export_file(self) -> QFileDialog:
        chooser = QFileDialog(self, "Export the audit trail", str(Path.home() / "audit-trail.csv"),
                              "CSV files (*.csv)")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setDefaultSuffix("csv")
        chooser.fileSelected.connect(lambda path: self.export_to(Path(path)))
        chooser.open()
        return chooser

    def export_to(self, path: Path) -> None:
        """Write the filtered trail to `path` (the file the user chose), off the UI thread."""
        wanted = self.current_filter()
        trail, actor = self._ctx.services.audit_trail, self._ctx.actor

        def export() -> None:
            path.write_text(trail.export_csv(actor, wanted), encoding="utf-8", newline="")

        self._ctx.tasks.db(
            export, lambda _none: self.banner.show_success(f"Saved to {path}."), self._failed,
            owner=self,
        )
