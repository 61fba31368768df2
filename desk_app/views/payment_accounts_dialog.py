"""Clinic ▸ Payment accounts (Full Access): the Stripe accounts card payments go into.

Each account says plainly whether it moves real money, which one is primary (it receives
account-credit top-ups), whom it serves, and whether this computer has its secret key (each
workstation keeps keys in its own keyring).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from desk_app.models.enums import AccountMode
from desk_app.services.appointments import BookingOptions
from desk_app.services.payment_accounts import PaymentAccountRow
from desk_app.views.forms import DialogHeader, FormDialog, push_button
from desk_app.views.payment_account_form import PaymentAccountForm
from desk_app.views.profile.confirm_dialog import ConfirmDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.table_model import RowTableModel
from desk_app.views.profile.table_view import profile_table, select_id, selected_row
from desk_app.views.view_context import ViewContext

LIVE_COLOUR = QColor("#b54708")

_Index = QModelIndex | QPersistentModelIndex


class PaymentAccountsModel(RowTableModel[PaymentAccountRow]):
    NAME, MODE, PRIMARY, SERVES, KEY = range(5)
    HEADERS = ("Name", "Mode", "Primary", "Serves", "Key on this computer")

    def cell(self, row: PaymentAccountRow, column: int) -> str:
        if column == self.NAME:
            return row.label
        if column == self.MODE:
            return row.mode_label
        if column == self.PRIMARY:
            return "Primary" if row.is_primary else ""
        if column == self.SERVES:
            return row.serves
        if column == self.KEY:
            return "Yes" if row.key_on_this_computer else "No: enter it with Edit…"
        return ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is not None and row.mode is AccountMode.LIVE and index.column() == self.MODE:
            # Real money stands out.
            if role == Qt.ItemDataRole.ForegroundRole:
                return LIVE_COLOUR
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return super().data(index, role)


class PaymentAccountsDialog(FormDialog):
    """Emits `changed` after any account was added, edited, made primary or removed."""

    changed = Signal()
    loaded = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._options: BookingOptions | None = None
        self.setWindowTitle("Payment accounts — Front Desk")
        self.setMinimumSize(900, 400)

        self.model = PaymentAccountsModel(self)
        self.table = profile_table(
            "Payment accounts",
            self.model,
            {
                PaymentAccountsModel.NAME: "Downtown clinic",
                PaymentAccountsModel.MODE: "Test mode (no real money)",
                PaymentAccountsModel.PRIMARY: "Primary",
                PaymentAccountsModel.KEY: "No: enter it with Edit…",
            },
            stretch=PaymentAccountsModel.SERVES,
        )
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.doubleClicked.connect(lambda _index: self.edit_account())
        self.banner = StatusBanner(self)

        self.add_button = push_button("Add account…", primary=True)
        self.add_button.clicked.connect(self.add_account)
        self.edit_button = push_button("Edit…")
        self.edit_button.clicked.connect(self.edit_account)
        self.primary_button = push_button("Make primary")
        self.primary_button.clicked.connect(self.make_primary)
        self.remove_button = push_button("Remove…")
        self.remove_button.clicked.connect(self.remove_account)
        self.close_button = push_button("Close")
        self.close_button.clicked.connect(self.accept)
        actions = QHBoxLayout()
        actions.setSpacing(8)
        for button in (self.add_button, self.edit_button, self.primary_button,
                       self.remove_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(DialogHeader(
            "Payment accounts",
            "The Stripe accounts card payments go into. The primary one receives "
            "account-credit top-ups. Secret keys stay in each computer's own keyring.",
        ))
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self._update_actions()
        self.reload()
        appointments, actor = ctx.services.appointments, ctx.actor
        ctx.tasks.db(lambda: appointments.booking_options(actor), self._options_loaded,
                     self._failed, owner=self)

    # ----- loading -------------------------------------------------------------------------

    def reload(self, select: PaymentAccountRow | None = None) -> None:
        keep = select or self.selected()
        accounts, actor = self._ctx.services.payment_accounts, self._ctx.actor
        self._ctx.tasks.db(
            lambda: accounts.list_accounts(actor),
            lambda rows: self._loaded(rows, keep),
            self._failed,
            owner=self,
        )

    def _loaded(self, rows: list[PaymentAccountRow], keep: PaymentAccountRow | None) -> None:
        self.model.set_rows(rows)
        if keep is not None:
            select_id(self.table, rows, keep.id)
        elif rows:
            self.table.selectRow(0)
        self._update_actions()
        self.loaded.emit()

    def _options_loaded(self, options: BookingOptions) -> None:
        self._options = options
        self._update_actions()

    def _failed(self, error: BaseException) -> None:
        self.banner.show_error(message_for(error))

    # ----- actions ---------------------------------------------------------------------------

    def selected(self) -> PaymentAccountRow | None:
        row = selected_row(self.table)
        return None if row is None else self.model.row_at(row)

    def _update_actions(self) -> None:
        account = self.selected()
        self.add_button.setEnabled(self._options is not None)
        self.edit_button.setEnabled(account is not None and self._options is not None)
        self.primary_button.setEnabled(account is not None and not account.is_primary)
        self.remove_button.setEnabled(account is not None)

    def add_account(self) -> PaymentAccountForm | None:
        return self._open_form(None)

    def edit_account(self) -> PaymentAccountForm | None:
        account = self.selected()
        return None if account is None else self._open_form(account)

    def _open_form(self, account: PaymentAccountRow | None) -> PaymentAccountForm | None:
        if self._options is None:
            return None
        form = PaymentAccountForm(self._ctx, self._options, account, self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        verb = "added" if account is None else "saved"
        form.saved.connect(lambda row: self._done(f"{row.label} {verb}.", row))
        form.open()
        return form

    def make_primary(self) -> None:
        account = self.selected()
        if account is None:
            return
        accounts, actor = self._ctx.services.payment_accounts, self._ctx.actor
        self._ctx.tasks.db(
            lambda: accounts.make_primary(actor, account.id),
            lambda row: self._done(
                f"{row.label} is now the primary account: account credit is paid into it.", row
            ),
            self._failed,
            owner=self,
        )

    def remove_account(self) -> None:
        account = self.selected()
        if account is None:
            return
        dialog = ConfirmDialog(
            "Remove payment account",
            f"Stop taking card payments into {account.label}? Its secret key is deleted from "
            "this computer's keyring; its payments and history stay. Cards saved in it can no "
            "longer be charged.",
            "Remove account",
            self,
        )
        accounts, actor = self._ctx.services.payment_accounts, self._ctx.actor

        def removed(_none: None) -> None:
            dialog.finish()
            self._done(f"{account.label} removed.", None)

        dialog.submitted.connect(lambda _r: self._ctx.tasks.db(
            lambda: accounts.remove_account(actor, account.id), removed, dialog.refuse,
            owner=dialog,
        ))
        dialog.open()

    def _done(self, message: str, row: PaymentAccountRow | None) -> None:
        self.banner.show_success(message)
        self.reload(row)
        self.changed.emit()
