"""Settings ▸ Staff (Full Access): who works here, their role and Billing permission, and
whether they can sign in; add, edit, deactivate or reactivate, reset a password, unlock."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from desk_app.models.enums import Role
from desk_app.services.staff_admin import StaffRow
from desk_app.views.forms import DialogHeader, FormDialog, push_button
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.staff.password_dialog import PasswordResetDialog
from desk_app.views.staff.staff_form import StaffForm
from desk_app.views.view_context import ViewContext


class StaffModel(RowTableModel[StaffRow]):
    NAME, USERNAME, ROLE, BILLING, STATUS = range(5)
    HEADERS = ("Name", "Username", "Role", "Billing permission", "Status")

    def cell(self, row: StaffRow, column: int) -> str:
        if column == self.NAME:
            return row.name + (f", {row.title}" if row.title else "")
        if column == self.USERNAME:
            return row.username
        if column == self.ROLE:
            return row.role.label
        if column == self.BILLING:
            if row.role in (Role.FULL_ACCESS, Role.ADMIN_BILLING):
                return "Included in role"
            return "Yes" if row.billing_permission else "No"
        if column == self.STATUS:
            if not row.active:
                return "Deactivated"
            return "Locked out" if row.locked else "Active"
        return ""


class StaffDialog(FormDialog):
    """Emits `changed` after any change was saved."""

    changed = Signal()
    loaded = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Staff — Front Desk")
        self.setMinimumSize(900, 460)

        self.model = StaffModel(self)
        self.table = profile_table(
            "Staff",
            self.model,
            {
                StaffModel.NAME: "Mireille Gauthier, DC",
                StaffModel.USERNAME: "mgauthier",
                StaffModel.ROLE: "Administrative/All Billing",
                StaffModel.BILLING: "Billing permission",
                StaffModel.STATUS: "Deactivated",
            },
            stretch=StaffModel.NAME,
        )
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.doubleClicked.connect(lambda _index: self.edit_member())
        self.banner = StatusBanner(self)

        self.add_button = push_button("Add staff member…", primary=True)
        self.add_button.clicked.connect(self.add_member)
        self.edit_button = push_button("Edit…")
        self.edit_button.clicked.connect(self.edit_member)
        self.active_button = push_button("Deactivate…")
        self.active_button.clicked.connect(self.toggle_active)
        self.password_button = push_button("Reset password…")
        self.password_button.clicked.connect(self.reset_password)
        self.unlock_button = push_button("Unlock")
        self.unlock_button.clicked.connect(self.unlock)
        self.close_button = push_button("Close")
        self.close_button.clicked.connect(self.accept)
        actions = QHBoxLayout()
        actions.setSpacing(8)
        for button in (self.add_button, self.edit_button, self.active_button,
                       self.password_button, self.unlock_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(DialogHeader(
            "Staff",
            "Who can sign in, and what each role may do. Every change is kept in the audit "
            "trail; a new role applies at the member's next sign-in.",
        ))
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self._update_actions()
        self.reload()

    # ----- loading -------------------------------------------------------------------------

    def reload(self, select: StaffRow | None = None) -> None:
        keep = select or self.selected()
        staff, actor = self._ctx.services.staff, self._ctx.actor
        self._ctx.tasks.db(
            lambda: staff.list_staff(actor),
            lambda rows: self._loaded(rows, keep),
            self._failed,
            owner=self,
        )

    def _loaded(self, rows: list[StaffRow], keep: StaffRow | None) -> None:
        self.model.set_rows(rows)
        if keep is not None:
            select_id(self.table, rows, keep.id)
        elif rows:
            self.table.selectRow(0)
        self._update_actions()
        self.loaded.emit()

    def _failed(self, error: BaseException) -> None:
        self.banner.show_error(message_for(error))

    # ----- actions ---------------------------------------------------------------------------

    def selected(self) -> StaffRow | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def _update_actions(self) -> None:
        member = self.selected()
        for button in (self.edit_button, self.active_button, self.password_button):
            button.setEnabled(member is not None)
        self.unlock_button.setEnabled(member is not None and member.locked)
        label = "Reactivate" if member is not None and not member.active else "Deactivate…"
        self.active_button.setText(label)
        self.active_button.setAccessibleName(label.rstrip("…"))

    def add_member(self) -> StaffForm:
        return self._open_form(None)

    def edit_member(self) -> StaffForm | None:
        member = self.selected()
        return None if member is None else self._open_form(member)

    def _open_form(self, member: StaffRow | None) -> StaffForm:
        form = StaffForm(self._ctx, member, self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        verb = "added" if member is None else "saved"
        form.saved.connect(lambda row: self._done(f"{row.name} {verb}.", row))
        form.open()
        return form

    def toggle_active(self) -> ConfirmDialog | None:
        member = self.selected()
        if member is None:
            return None
        staff, actor = self._ctx.services.staff, self._ctx.actor
        if not member.active:
            self._run(lambda: staff.set_active(actor, member.id, True),
                      f"{member.name} can sign in again.")
            return None
        dialog = ConfirmDialog(
            "Deactivate staff member",
            f"{member.name} will no longer be able to sign in. Their history stays, and you "
            "can reactivate them later.",
            "Deactivate",
            self,
        )
        dialog.submitted.connect(lambda _r: self._ctx.tasks.db(
            lambda: staff.set_active(actor, member.id, False),
            lambda row: self._finished(dialog, f"{member.name} deactivated.", row),
            dialog.refuse,
            owner=dialog,
        ))
        dialog.open()
        return dialog

    def reset_password(self) -> PasswordResetDialog | None:
        member = self.selected()
        if member is None:
            return None
        dialog = PasswordResetDialog(member.name, self)
        staff, actor = self._ctx.services.staff, self._ctx.actor
        dialog.submitted.connect(lambda password: self._ctx.tasks.db(
            lambda: staff.reset_password(actor, member.id, str(password)),
            lambda row: self._finished(
                dialog, f"{member.name}'s password was changed. Tell them the new one.", row
            ),
            dialog.refuse,
            owner=dialog,
        ))
        dialog.open()
        return dialog

    def unlock(self) -> None:
        member = self.selected()
        if member is not None:
            staff, actor = self._ctx.services.staff, self._ctx.actor
            self._run(lambda: staff.unlock(actor, member.id), f"{member.name} can sign in again.")

    def _run(self, work: Callable[[], StaffRow], message: str) -> None:
        self._ctx.tasks.db(work, lambda row: self._done(message, row), self._failed, owner=self)

    def _finished(self, dialog: ActionDialog, message: str, row: StaffRow) -> None:
        dialog.finish()
        self._done(message, row)

    def _done(self, message: str, row: StaffRow | None) -> None:
        self.banner.show_success(message)
        self.reload(row)
        self.changed.emit()
