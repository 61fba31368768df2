"""Reset a staff member's password: the admin types a new one and tells it to them."""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from desk_app.views.profile.action_dialog import ActionDialog


class PasswordResetDialog(ActionDialog):
    def __init__(self, member_name: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Reset {member_name}'s password", "Set password", parent=parent)
        text = QLabel(
            "Choose a new password of at least 8 characters and tell it to them. It also lifts "
            "a lockout after too many failed sign-ins."
        )
        text.setWordWrap(True)
        self.body.insertWidget(0, text)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_field("New password:", self.password, "password")

    def collect(self) -> object | None:
        return self.password.text()

    def finish(self) -> None:
        self.password.clear()
        super().finish()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.password.clear()
        super().closeEvent(event)
