"""Billing Info for the selected appointment: the package paying for it and its usage
("3 of 10 used, 7 left, expires 2027-03-01"), with Use package, Remove package and the
package visit receipt."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.packages import VisitCoverage
from desk_app.services.permissions import Permission
from desk_app.views.profile.background import submit_from
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.package_dialogs import UsePackageDialog
from desk_app.views.profile.tab_parts import action_button, allow
from desk_app.views.view_context import ViewContext


class PackageVisitPanel(QWidget):
    #: A package was used on or removed from the visit (the tab reloads).
    changed = Signal(str)
    #: Something went wrong: the tab's banner says it.
    failed = Signal(str)
    #: The package visit receipt is ready to show.
    receipt_ready = Signal(object)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None, *,
                 patient_id: uuid.UUID | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        #: Whose place on a group or class this panel shows (the profile's patient).
        self.patient_id = patient_id
        self.appointment_id: uuid.UUID | None = None
        self.visit_label = ""
        self.coverage: VisitCoverage | None = None
        #: The dialog opened last (tests and screenshots reach it here).
        self.open_dialog: UsePackageDialog | None = None
        self.title = QLabel("Billing info:")
        self.title.setStyleSheet("font-weight: 600; color: #34474f;")
        self.summary = QLabel("Select an appointment to see the package that pays for it.")
        self.summary.setObjectName("packageSummary")
        self.summary.setWordWrap(True)
        self.use_button = action_button("Use package…", self.open_use)
        self.remove_button = action_button("Remove package", self.remove)
        self.receipt_button = action_button("Package receipt", self.receipt)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.summary, 1)
        button: QPushButton
        for button in (self.use_button, self.remove_button, self.receipt_button):
            layout.addWidget(button)
        self._update()

    def show_for(self, appointment_id: uuid.UUID | None, visit_label: str = "") -> None:
        self.appointment_id = appointment_id
        self.visit_label = visit_label
        self.coverage = None
        self._update()
        if appointment_id is None:
            return
        actor, packages, pid = self.ctx.actor, self.ctx.services.packages, self.patient_id
        self.ctx.tasks.db(lambda: packages.visit_coverage(actor, appointment_id, pid),
                          self._loaded, lambda e: self.failed.emit(message_for(e)), owner=self)

    def _loaded(self, coverage: VisitCoverage) -> None:
        if coverage.appointment_id != self.appointment_id:
            return  # an older answer for a visit no longer selected
        self.coverage = coverage
        self._update()

    def _update(self) -> None:
        cover = self.coverage
        may = self.ctx.can(Permission.CREATE_INVOICE)
        if self.appointment_id is None:
            self.summary.setText("Select an appointment to see the package that pays for it.")
        elif cover is None:
            self.summary.setText("Loading…")
        elif cover.note and cover.sale_id is not None:
            self.summary.setText(f"Paid by {cover.package_name}: {cover.usage_text}. "
                                 f"{cover.note}")
        elif cover.note:
            self.summary.setText(f"No package on this visit. {cover.note}")
        elif cover.sale_id is not None:
            self.summary.setText(f"Paid by {cover.package_name}: {cover.usage_text}")
        else:
            usable = sum(1 for o in cover.options if not o.refusal)
            self.summary.setText("No package on this visit." + (
                f" {usable} package{'s' if usable != 1 else ''} could pay for it." if usable
                else ""))
        no_perm = "You do not have permission to create invoices."
        covered = cover is not None and cover.sale_id is not None
        if not may:
            allow(self.use_button, False, no_perm)
            allow(self.remove_button, False, no_perm)
        elif cover is not None and cover.note:  # a group's secondary client: not theirs to pay
            allow(self.use_button, False, cover.note)
            allow(self.remove_button, False, cover.note)
        else:
            allow(self.use_button, cover is not None and not covered and bool(cover.options),
                  "This visit already has a package." if covered
                  else "This patient has no package to use.")
            allow(self.remove_button, covered, "No package is used on this visit.")
        allow(self.receipt_button, covered, "No package is used on this visit.")

    def open_use(self) -> None:
        if self.coverage is None or self.appointment_id is None:
            return
        dialog = UsePackageDialog(self.visit_label, self.coverage.options, self)
        appointment_id = self.appointment_id
        actor, packages, pid = self.ctx.actor, self.ctx.services.packages, self.patient_id
        dialog.submitted.connect(lambda sale_id: submit_from(
            self.ctx, self, dialog, lambda: packages.redeem(actor, appointment_id, sale_id, pid),
            lambda cover: self._done(cover, f"{cover.package_name} pays for this visit: "
                                            f"{cover.usage_text}.")))
        dialog.open()
        self.open_dialog = dialog

    def remove(self) -> None:
        if self.appointment_id is None or self.coverage is None:
            return
        appointment_id, name = self.appointment_id, self.coverage.package_name
        actor, packages, pid = self.ctx.actor, self.ctx.services.packages, self.patient_id

        def work() -> VisitCoverage:
            packages.remove_from_appointment(actor, appointment_id, pid)
            return packages.visit_coverage(actor, appointment_id, pid)

        self.ctx.tasks.db(work, lambda cover: self._done(
            cover, f"Removed {name} from this visit; the use was given back."),
            lambda e: self.failed.emit(message_for(e)), owner=self)

    def receipt(self) -> None:
        if self.appointment_id is None:
            return
        appointment_id = self.appointment_id
        actor, packages, pid = self.ctx.actor, self.ctx.services.packages, self.patient_id
        self.ctx.tasks.db(lambda: packages.visit_receipt(actor, appointment_id, pid),
                          self._receipt_ready, lambda e: self.failed.emit(message_for(e)),
                          owner=self)

    def _receipt_ready(self, document: PdfDocument) -> None:
        self.receipt_ready.emit(document)

    def _done(self, cover: VisitCoverage, message: str) -> None:
        self.coverage = cover
        self._update()
        self.changed.emit(message)
