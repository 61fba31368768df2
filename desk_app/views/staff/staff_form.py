"""Add or edit one staff member: name, username, role, the Billing permission, contact and
practitioner details; a first password when adding."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.models.enums import Role
from desk_app.services.staff_admin import StaffInput, StaffRow
from desk_app.views.a11y import name
from desk_app.views.forms import (
    DialogHeader,
    FieldForm,
    FormDialog,
    cancel_and_save,
    form_error_label,
)
from desk_app.views.view_context import ViewContext

BILLING_LABEL = "Billing permission"
ROLE_HINTS = {
    Role.FULL_ACCESS: "Everything, including clinic settings and staff.",
    Role.ADMIN_BILLING: "Every billing action and the audit trail; not settings or staff.",
    Role.BILLING: "Invoices, payments, refunds and cards.",
    Role.FRONT_DESK: "Patients, bookings, invoices and taking payments.",
    Role.PRACTITIONER: "Their own patients and day.",
}
_INCLUDES_BILLING = (Role.FULL_ACCESS, Role.ADMIN_BILLING)


class StaffForm(FormDialog):
    """Emits `saved(StaffRow)` once the service kept the member."""

    saved = Signal(object)

    def __init__(
        self, ctx: ViewContext, member: StaffRow | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._member = member
        adding = member is None
        self.setWindowTitle(("Add" if adding else "Edit") + " staff member — Front Desk")
        self.setMinimumWidth(560)

        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.username = QLineEdit()
        self.username.setPlaceholderText("what they type to sign in, e.g. jlee")
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.label, role.value)
        self.billing = QCheckBox(BILLING_LABEL)
        name(self.billing, BILLING_LABEL)
        self.email = QLineEdit()
        self.title = QLineEdit()
        self.title.setPlaceholderText("on receipts, e.g. RMT, PT, DC")
        self.registration = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)

        self.form = FieldForm()
        self.form.add("First name:", self.first_name, "first_name")
        self.form.add("Last name:", self.last_name, "last_name")
        self.form.add("Username:", self.username, "username")
        self.form.add("Role:", self.role, "role")
        self.role_hint = QLabel()
        self.role_hint.setObjectName("muted")
        self.role_hint.setWordWrap(True)
        self.form.add_unlabelled(self.role_hint)
        self.form.add_unlabelled(
            self.billing, "Adds refunds, unapplying, deleting invoices and managing cards."
        )
        self.form.add("Email:", self.email, "email")
        self.form.add("Title:", self.title, "title")
        self.form.add("Registration number:", self.registration, "registration_number")
        if adding:
            self.form.add("First password:", self.password, "password",
                          hint="At least 8 characters. Tell it to them; they can't see it here.")
        self.error = form_error_label()

        buttons, self.cancel_button, self.save_button = cancel_and_save(
            self, self.submit, "Add staff member" if adding else "Save")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        title = "Add a staff member" if member is None else f"Edit {member.name}"
        layout.addWidget(DialogHeader(title, "A change of role applies at their next sign-in."))
        layout.addLayout(self.form.layout)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.role.currentIndexChanged.connect(self._role_changed)
        if member is not None:
            self.first_name.setText(member.first_name)
            self.last_name.setText(member.last_name)
            self.username.setText(member.username)
            self.role.setCurrentIndex(self.role.findData(member.role.value))
            self.billing.setChecked(member.billing_permission)
            self.email.setText(member.email)
            self.title.setText(member.title)
            self.registration.setText(member.registration_number)
        else:
            self.role.setCurrentIndex(self.role.findData(Role.FRONT_DESK.value))
        self._role_changed()

    def selected_role(self) -> Role:
        return Role(self.role.currentData())

    def _role_changed(self) -> None:
        role = self.selected_role()
        self.role_hint.setText(ROLE_HINTS[role])
        includes = role in _INCLUDES_BILLING
        if includes:
            self.billing.setChecked(True)
        self.billing.setEnabled(not includes)

    def data(self) -> StaffInput:
        return StaffInput(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            username=self.username.text(),
            role=self.selected_role(),
            billing_permission=self.billing.isChecked(),
            email=self.email.text(),
            title=self.title.text(),
            registration_number=self.registration.text(),
        )

    def submit(self) -> None:
        self.form.clear_errors()
        self.error.hide()
        self.save_button.setEnabled(False)
        data, password, member = self.data(), self.password.text(), self._member
        staff, actor = self._ctx.services.staff, self._ctx.actor

        def save() -> StaffRow:
            if member is None:
                return staff.add(actor, data, password)
            return staff.update(actor, member.id, data, member.version)

        self._ctx.tasks.db(save, self._saved, self._failed, owner=self)

    def _saved(self, row: StaffRow) -> None:
        self.password.clear()
        self.saved.emit(row)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        if not self.form.show_refusal(error, self.error):
            self._ctx.tasks.default_failure(error)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.password.clear()
        super().closeEvent(event)
