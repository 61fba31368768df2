"""Add or edit one Stripe payment account: its name, whom it serves, and its keys.

The secret key is typed into a password field and handed straight to the service, which checks
it with Stripe and keeps it in this computer's keyring. This dialog never logs it, keeps it
only in the field, and clears the field once it is saved or the dialog closes.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desk_app.models.enums import AccountMode
from desk_app.services.appointments import BookingOptions
from desk_app.services.payment_accounts import PaymentAccountInput, PaymentAccountRow
from desk_app.services.stripe_gateway import account_mode_of_key
from desk_app.views.a11y import name
from desk_app.views.forms import (
    DialogHeader,
    FieldForm,
    FormDialog,
    cancel_and_save,
    form_error_label,
)
from desk_app.views.view_context import ViewContext

WHOLE_CLINIC = "The whole clinic"
PRIMARY_LABEL = "Make this the primary account"


def serves_choices(options: BookingOptions) -> list[tuple[str, str | None, uuid.UUID | None]]:
    """(label, 'practitioner'/'location'/None, id) for the Serves list."""
    choices: list[tuple[str, str | None, uuid.UUID | None]] = [(WHOLE_CLINIC, None, None)]
    choices += [(f"Practitioner: {p.label}", "practitioner", p.id) for p in options.practitioners]
    choices += [(f"Location: {loc.label}", "location", loc.id) for loc in options.locations]
    return choices


def mode_text(key: str) -> str:
    mode = account_mode_of_key(key.strip())
    return AccountMode(mode).label if mode else ""


class PaymentAccountForm(FormDialog):
    """Emits `saved(PaymentAccountRow)` once the service kept the account."""

    saved = Signal(object)

    def __init__(
        self,
        ctx: ViewContext,
        options: BookingOptions,
        account: PaymentAccountRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._account = account
        adding = account is None
        self.setWindowTitle(("Add" if adding else "Edit") + " payment account — Front Desk")
        self.setMinimumWidth(600)

        self.label = QLineEdit()
        self.label.setPlaceholderText("for example Downtown clinic, or the practitioner's name")
        self.serves = QComboBox()
        self._choices = serves_choices(options)
        for text, _kind, _id in self._choices:
            self.serves.addItem(text)
        self.publishable_key = QLineEdit()
        self.publishable_key.setPlaceholderText("pk_test_… or pk_live_…")
        self.secret_key = QLineEdit()
        self.secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_key.setPlaceholderText(
            "sk_test_… or sk_live_…" if adding else "Leave blank to keep the current key"
        )
        self.mode = QLabel()
        self.mode.setObjectName("muted")
        self.make_primary = QCheckBox(PRIMARY_LABEL)
        name(self.make_primary, PRIMARY_LABEL)

        self.form = FieldForm()
        self.form.add("Name:", self.label, "label")
        self.form.add("Serves:", self.serves, "practitioner_id",
                      hint="Card payments for this practitioner or location go into this "
                      "account; everything else goes to the primary one.")
        self.form.add("Publishable key:", self.publishable_key, "publishable_key")
        self.form.add("Secret key:", self.secret_key, "secret_key",
                      hint="From the Stripe Dashboard > Developers > API keys. Kept in this "
                      "computer's keyring only, never in the database.")
        self.form.add_unlabelled(self.mode)
        if adding:
            self.form.add_unlabelled(
                self.make_primary, "The primary account receives account-credit top-ups."
            )
        else:
            self.make_primary.hide()
        self.error = form_error_label()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(90)
        self.busy.setAccessibleName("Checking the key with Stripe")
        self.busy.hide()

        buttons, self.cancel_button, self.save_button = cancel_and_save(
            self, self.submit, leading=self.busy)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        title = "Add a payment account" if adding else f"Edit {account.label if account else ''}"
        layout.addWidget(DialogHeader(title, "A Stripe account that card payments go into."))
        layout.addLayout(self.form.layout)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self.secret_key.textChanged.connect(self._show_mode)
        if account is not None:
            self.label.setText(account.label)
            self.publishable_key.setText(account.publishable_key)
            self.serves.setCurrentIndex(self._index_of(account))
            self.mode.setText(f"Now: {account.mode_label}")
        else:
            self._show_mode("")

    def _index_of(self, account: PaymentAccountRow) -> int:
        wanted = account.practitioner_id or account.location_id
        for index, (_text, _kind, choice_id) in enumerate(self._choices):
            if choice_id == wanted:
                return index
        return 0

    def _show_mode(self, key: str) -> None:
        text = mode_text(key)
        if text:
            self.mode.setText(f"This key is for: {text}")
        elif self._account is None:
            self.mode.setText("Test or live is read from the secret key.")

    def data(self) -> PaymentAccountInput:
        _text, kind, choice_id = self._choices[self.serves.currentIndex()]
        return PaymentAccountInput(
            label=self.label.text(),
            publishable_key=self.publishable_key.text(),
            secret_key=self.secret_key.text().strip() or None,
            practitioner_id=choice_id if kind == "practitioner" else None,
            location_id=choice_id if kind == "location" else None,
        )

    def submit(self) -> None:
        self.form.clear_errors()
        self.error.hide()
        self._set_busy(True)
        data, primary = self.data(), self.make_primary.isChecked()
        accounts, actor = self._ctx.services.payment_accounts, self._ctx.actor
        account = self._account

        def save() -> PaymentAccountRow:
            if account is None:
                return accounts.add_account(actor, data, make_primary=primary)
            return accounts.update_account(actor, account.id, data, account.version)

        # A new key is checked with Stripe before it is kept: the network pool.
        self._ctx.tasks.network(save, self._saved, self._failed, owner=self)

    def _saved(self, row: PaymentAccountRow) -> None:
        self.secret_key.clear()
        self._set_busy(False)
        self.saved.emit(row)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        if not self.form.show_refusal(error, self.error):
            self._ctx.tasks.default_failure(error)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.save_button, self.cancel_button, self.label, self.serves,
                       self.publishable_key, self.secret_key, self.make_primary):
            widget.setEnabled(not busy)

    def reject(self) -> None:
        if self.save_button.isEnabled():  # not while Stripe is checking the key
            self.secret_key.clear()
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.secret_key.clear()
        super().closeEvent(event)
