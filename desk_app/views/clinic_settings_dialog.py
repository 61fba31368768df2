"""The clinic's details and the switches that change what the desk shows (Full Access only)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.clinic_settings import ClinicInfo
from desk_app.views.a11y import name
from desk_app.views.clinic_logo import LogoField
from desk_app.views.forms import (
    DialogHeader,
    FieldForm,
    FormDialog,
    cancel_and_save,
    form_error_label,
)
from desk_app.views.view_context import ViewContext

PRONOUNS_LABEL = "Client Pronouns"
AUTO_LOCK_CHOICES = (2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 240)
ACCOUNT_CREDIT_LABEL = "Enable Add Account Credit"


def minutes_text(minutes: int) -> str:
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class ClinicSettingsDialog(FormDialog):
    """Loads the current settings, saves only what changed, emits `saved(ClinicInfo)`."""

    saved = Signal(object)
    loaded = Signal()

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._current: ClinicInfo | None = None
        self.setWindowTitle("Clinic settings — Front Desk")
        self.setMinimumWidth(600)

        self.clinic_name = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(72)
        self.phone = QLineEdit()
        self.email = QLineEdit()
        self.tax_numbers = QLineEdit()
        self.tax_numbers.setPlaceholderText("for example GST/HST 123456789 RT0001")
        self.show_pronouns = QCheckBox(PRONOUNS_LABEL)
        name(self.show_pronouns, PRONOUNS_LABEL)
        self.enable_credit = QCheckBox(ACCOUNT_CREDIT_LABEL)
        name(self.enable_credit, ACCOUNT_CREDIT_LABEL)
        self.idle_lock = QComboBox()
        self.idle_lock.setMaximumWidth(200)
        for minutes in AUTO_LOCK_CHOICES:
            self.idle_lock.addItem(minutes_text(minutes), minutes)
        self.logo = LogoField()
        self.fixed = QLabel()
        self.fixed.setObjectName("muted")
        self.fixed.setWordWrap(True)

        self.form = FieldForm()
        add = self.form.add
        add("Clinic name:", self.clinic_name, "clinic name")
        add("Address:", self.address, "address")
        add("Phone:", self.phone, "phone")
        add("Email:", self.email, "email")
        add(
            "Tax numbers:",
            self.tax_numbers,
            "tax_numbers",
            hint="Printed on invoices and receipts.",
        )
        add(
            "Logo:",
            self.logo,
            "logo",
            hint="A PNG or JPEG up to 512 KB, at the top of receipts and statements.",
        )
        self.logo.refused.connect(lambda message: self.form.show_error("logo", message))
        self.form.add_unlabelled(
            self.show_pronouns, "Ask for and show each patient's pronouns on their profile."
        )
        self.form.add_unlabelled(
            self.enable_credit, "Let the desk add credit to a patient's account ahead of visits."
        )
        add(
            "Auto-lock after:",
            self.idle_lock,
            "idle_lock_minutes",
            hint="Lock this workstation when no one has used it for this long.",
        )
        self.error = form_error_label()

        buttons, self.cancel_button, self.save_button = cancel_and_save(
            self, self.submit)

        self.body = QWidget()
        body_layout = QVBoxLayout(self.body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(12)
        body_layout.addLayout(self.form.layout)
        body_layout.addWidget(self.fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(DialogHeader("Clinic settings", "These apply to every workstation."))
        layout.addWidget(self.body)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        self._set_enabled(False)
        clinic, actor = ctx.services.clinic, ctx.actor
        ctx.tasks.db(lambda: clinic.info(actor), self._fill, owner=self)
        ctx.tasks.db(lambda: clinic.logo(actor), self.logo.set_loaded, owner=self)

    @property
    def ready(self) -> bool:
        return self._current is not None and self.save_button.isEnabled()

    def _set_enabled(self, enabled: bool) -> None:
        self.body.setEnabled(enabled)
        self.save_button.setEnabled(enabled)

    def _fill(self, info: ClinicInfo) -> None:
        self._current = info
        self.clinic_name.setText(info.name)
        self.address.setPlainText(info.address)
        self.phone.setText(info.phone)
        self.email.setText(info.email)
        self.tax_numbers.setText(info.tax_numbers)
        self.show_pronouns.setChecked(info.show_pronouns)
        self.enable_credit.setChecked(info.enable_add_account_credit)
        self._select_minutes(info.idle_lock_minutes)
        self.fixed.setText(
            f"Time zone {info.time_zone}, currency {info.currency}. These are set when the "
            "clinic is created: the ledger depends on them."
        )
        self._set_enabled(True)
        self.clinic_name.setFocus(Qt.FocusReason.OtherFocusReason)
        self.loaded.emit()

    def _select_minutes(self, minutes: int) -> None:
        index = self.idle_lock.findData(minutes)
        if index < 0:  # a value set elsewhere that is not one of ours: keep it on offer
            index = sum(1 for m in AUTO_LOCK_CHOICES if m < minutes)
            self.idle_lock.insertItem(index, minutes_text(minutes), minutes)
        self.idle_lock.setCurrentIndex(index)

    def changes(self) -> dict[str, Any]:
        """The settings that differ from what was loaded."""
        if self._current is None:
            return {}
        typed: dict[str, Any] = {
            "name": self.clinic_name.text(),
            "address": self.address.toPlainText().strip(),
            "phone": self.phone.text().strip(),
            "email": self.email.text().strip(),
            "tax_numbers": self.tax_numbers.text().strip(),
            "show_pronouns": self.show_pronouns.isChecked(),
            "enable_add_account_credit": self.enable_credit.isChecked(),
            "idle_lock_minutes": int(self.idle_lock.currentData()),
        }
        return {k: v for k, v in typed.items() if getattr(self._current, k) != v}

    def submit(self) -> None:
        if not self.ready:
            return
        changes = self.changes()
        logo_changed, logo = self.logo.changed(), self.logo.logo
        if not changes and not logo_changed:
            self.accept()
            return
        self.form.clear_errors()
        self.error.hide()
        self._set_enabled(False)
        clinic, actor = self._ctx.services.clinic, self._ctx.actor

        def save() -> ClinicInfo:
            info = clinic.update(actor, **changes)  # checks the typed fields first
            if logo_changed:
                clinic.set_logo(actor, logo)
            return info

        self._ctx.tasks.db(save, self._saved, self._failed, owner=self)

    def _saved(self, info: ClinicInfo) -> None:
        self._current = info
        self.logo.mark_saved()
        self._set_enabled(True)
        self.saved.emit(info)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_enabled(True)
        if not self.form.show_refusal(error, self.error):
            self._ctx.tasks.default_failure(error)
