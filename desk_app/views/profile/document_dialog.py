"""A document on screen, page by page, with what can be done with it.

The PDF stays in memory (QtPdf reads it from a buffer): viewing a receipt writes no file.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.permissions import Permission
from desk_app.views import a11y
from desk_app.views.forms import push_button
from desk_app.views.profile.document_actions import DocumentActions
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.view_context import ViewContext


class DocumentDialog(QDialog):
    def __init__(
        self,
        ctx: ViewContext,
        document: PdfDocument,
        patient_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.setWindowTitle(f"{document.title} — Front Desk")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(760, 860)

        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(document.data))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.pdf = QPdfDocument(self)
        self.pdf.load(self._buffer)
        self.view = QPdfView(self)
        a11y.name(self.view, "Document pages")
        self.view.setDocument(self.pdf)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)
        self.view.setStyleSheet("QPdfView { background: #e9eef0; border: none; }")

        self.banner = StatusBanner(self)
        self.document_actions = DocumentActions(ctx, self, self.banner, patient_id)

        title = QLabel(document.title)
        title.setObjectName("dialogTitle")
        title.setStyleSheet("font-size: 14pt; font-weight: 600; color: #15767a;")
        pages = int(self.pdf.pageCount())
        count = QLabel(f"{pages} page" + ("" if pages == 1 else "s"))
        count.setObjectName("muted")

        self.print_button = push_button("Print", primary=True)
        self.print_dialog_button = push_button("Print…")
        self.preview_button = push_button("Print preview")
        self.save_button = push_button("Save as PDF…")
        self.email_button = push_button("Email…")
        self.close_button = push_button("Close")
        self.print_button.clicked.connect(lambda: self.document_actions.print_now(document))
        self.print_dialog_button.clicked.connect(
            lambda: self.document_actions.print_with_dialog(document)
        )
        self.preview_button.clicked.connect(lambda: self.document_actions.preview(document))
        self.save_button.clicked.connect(lambda: self.document_actions.save_as(document))
        self.email_button.clicked.connect(lambda: self.document_actions.email(document))
        self.close_button.clicked.connect(self.close)
        can_email = patient_id is not None and ctx.can(Permission.EMAIL_DOCUMENTS)
        self.email_button.setEnabled(can_email)
        if not can_email:
            self.email_button.setToolTip(
                f"You do not have permission to {Permission.EMAIL_DOCUMENTS.value}."
            )

        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(count)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (
            self.print_button,
            self.print_dialog_button,
            self.preview_button,
            self.save_button,
            self.email_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addLayout(heading)
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        self.print_button.setFocus()
