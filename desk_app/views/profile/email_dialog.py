"""Emailing a document: to whom (the patient's address on file to start with), then Send."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.errors import ValidationError
from desk_app.services.mail import check_address
from desk_app.views.profile.action_dialog import ActionDialog

SUBJECTS = {"statement": "statement", "superbill": "superbill"}


class EmailDialog(ActionDialog):
    """Submits the address typed (a str); the sending itself is the caller's."""

    def __init__(self, document: PdfDocument, address: str, parent: QWidget | None = None) -> None:
        what = SUBJECTS.get(document.kind, "receipt")
        super().__init__(
            f"Email {what}",
            "Send",
            f"{document.title}, attached as {document.filename}. The email names the clinic "
            "and the amount, nothing about the visit.",
            parent,
        )
        self.to = QLineEdit(address)
        self.to.setPlaceholderText("name@example.com")
        self.add_field("To:", self.to, "to")
        self.hint = QLabel(
            "" if address else "No email address is on file for this patient; type one."
        )
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.hint.setVisible(not address)
        self.body.addWidget(self.hint)
        self.first_input = self.to

    def collect(self) -> str | None:
        self.clear_errors()
        try:
            return check_address(self.to.text())
        except ValidationError as error:
            self.show_field_error("to", error.message)
            return None
