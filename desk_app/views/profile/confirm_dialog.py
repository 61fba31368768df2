"""Asking before an action that cannot simply be taken back."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from desk_app.views.profile.action_dialog import ActionDialog


class ConfirmDialog(ActionDialog):
    def __init__(
        self, title: str, message: str, action_label: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(title, action_label, parent=parent)
        text = QLabel(message)
        text.setWordWrap(True)
        self.body.addWidget(text)
        # The safe choice is the default: Enter must not delete anything.
        self.action_button.setDefault(False)
        self.action_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.action_button.setStyleSheet(
            "QPushButton { background: #b42318; border: 1px solid #912018; color: #ffffff;"
            " font-weight: 600; }"
            "QPushButton:hover { background: #912018; }"
            "QPushButton:disabled { background: #e3a39c; border-color: #e3a39c; }"
        )

    def collect(self) -> object:
        return True
