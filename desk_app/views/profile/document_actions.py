"""What the desk does with a finished document: save it, print it, preview it, email it.

Shared by the Receipts tab, the Billing tab's Receipt action and the document preview. Saving
writes only the file the person chose. Printing runs off the UI thread (drawing a page for the
printer takes about half a second); with no printer installed the desk says so and offers to
save the PDF instead. Emailing prepares the message on the database thread, sends it on the
network pool and then records it in the audit trail; it never blocks the UI thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desk_app.services.documents.pdf_document import PdfDocument
from desk_app.services.mail import NOT_CONFIGURED, Delivery, OutgoingEmail
from desk_app.services.patient_documents import EmailRecord
from desk_app.views import a11y
from desk_app.views.documents.pdf_fonts import document_font_family
from desk_app.views.documents.pdf_printing import PrintError, paint_pdf_pages, print_pdf
from desk_app.views.documents.printers import Printers
from desk_app.views.profile.email_dialog import EmailDialog
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.view_context import ViewContext

DELETE_ON_CLOSE = Qt.WidgetAttribute.WA_DeleteOnClose
NO_PRINTER_TITLE = "No printer is set up"
SAVE_INSTEAD = "Save as PDF…"


def no_printer_text(what: str) -> str:
    return (
        f"No printer is installed on this computer, so the {what} cannot be printed here. "
        "Save it as a PDF instead: you can print it from another computer, or email it."
    )


def documents_folder() -> Path:
    """Where a first save is offered: the user's Documents folder, else their home."""
    documents = Path(
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    )
    return documents if documents.is_dir() else Path.home()


def kind_label(document: PdfDocument) -> str:
    """'receipt', 'statement', 'superbill': how messages name the document."""
    return document.kind


class DocumentActions(QObject):
    """Save, print, preview and email documents for one patient, reporting on `banner`."""

    saved = Signal(object)  # Path
    printed = Signal(int)  # pages
    emailed = Signal(object)  # Delivery

    #: The folder the last document was saved to, offered first next time (this session).
    last_folder: Path | None = None

    def __init__(
        self,
        ctx: ViewContext,
        parent: QWidget,
        banner: StatusBanner,
        patient_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.widget = parent
        self.banner = banner
        self.patient_id = patient_id
        #: The printers to use; tests hand in their own.
        self.printers: Printers = Printers()

    # ----- saving ------------------------------------------------------------------------

    def save_as(self, document: PdfDocument) -> QFileDialog:
        """Ask where to save `document`, then write it there and nowhere else."""
        last = DocumentActions.last_folder
        folder = last if last is not None and last.is_dir() else documents_folder()
        dialog = QFileDialog(self.widget, f"Save {kind_label(document)} as PDF")
        dialog.setObjectName("savePdfDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter("PDF documents (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        dialog.setDirectory(str(folder))
        dialog.selectFile(document.filename)
        dialog.setAttribute(DELETE_ON_CLOSE)
        dialog.fileSelected.connect(lambda chosen: self._write(document, Path(chosen)))
        dialog.open()
        return dialog

    def _write(self, document: PdfDocument, path: Path) -> None:
        try:
            path.write_bytes(document.data)
        except OSError as exc:
            self.banner.show_error(
                f"The {kind_label(document)} was not saved to {path}: "
                f"{exc.strerror or exc}. Choose another folder."
            )
            return
        DocumentActions.last_folder = path.parent
        self.banner.show_success(f"Saved {path.name} to {path.parent}.")
        self.saved.emit(path)

    # ----- printing ----------------------------------------------------------------------

    def print_now(self, document: PdfDocument) -> None:
        """One click: print on the default printer."""
        printer = self.printers.default_printer()
        if printer is None:
            self._no_printer(document)
            return
        self._print(document, printer)

    def print_with_dialog(self, document: PdfDocument) -> QPrintDialog | None:
        """Choose the printer, copies and pages first."""
        if not self.printers.names():
            self._no_printer(document)
            return None
        printer = self.printers.for_dialog()
        dialog = QPrintDialog(printer, self.widget)
        dialog.setWindowTitle(f"Print {kind_label(document)}")
        dialog.setAttribute(DELETE_ON_CLOSE)
        dialog.accepted.connect(lambda: self._print(document, printer))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)  # as open(), which PySide hides
        dialog.show()
        return dialog

    def preview(self, document: PdfDocument) -> QPrintPreviewDialog:
        """The pages as they will come out of the printer (it may print from there too)."""
        printer = self.printers.for_dialog()
        dialog = QPrintPreviewDialog(printer, self.widget)
        dialog.setWindowTitle(f"Print preview — {document.title}")
        dialog.setAttribute(DELETE_ON_CLOSE)
        # The connection keeps `printer` alive for as long as the dialog uses it.
        dialog.paintRequested.connect(
            lambda target, _keep=printer: paint_pdf_pages(document.data, target)
        )
        dialog.open()
        return dialog

    def _print(self, document: PdfDocument, printer: QPrinter) -> None:
        document_font_family()  # loaded here: fonts are added on the UI thread
        name = printer.printerName()
        self.banner.show_success(f"Printing the {kind_label(document)}…")

        def printed(pages: int) -> None:
            # Holding `printer` here too lets go of it on the UI thread, after the job.
            assert printer is not None
            self._printed(document, name, pages)

        self.ctx.tasks.network(
            lambda: print_pdf(document.data, printer),
            printed,
            lambda error: self.banner.show_error(
                f"The {kind_label(document)} was not printed: {_print_failure(error)}"
            ),
            owner=self,
        )

    def _printed(self, document: PdfDocument, printer_name: str, pages: int) -> None:
        where = f" on {printer_name}" if printer_name else ""
        plural = "page" if pages == 1 else "pages"
        self.banner.show_success(
            f"Sent the {kind_label(document)} ({pages} {plural}) to print{where}."
        )
        self.printed.emit(pages)

    def _no_printer(self, document: PdfDocument) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            NO_PRINTER_TITLE,
            no_printer_text(kind_label(document)),
            QMessageBox.StandardButton.NoButton,
            self.widget,
        )
        box.setObjectName("noPrinterMessage")
        save = box.addButton(SAVE_INSTEAD, QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        for button in (save, cancel):
            a11y.button_named(button)
        box.setDefaultButton(save)
        box.setAttribute(DELETE_ON_CLOSE)
        save.clicked.connect(lambda: self.save_as(document))
        self.banner.show_error(no_printer_text(kind_label(document)))
        box.open()
        return box

    # ----- email -------------------------------------------------------------------------

    def email(self, document: PdfDocument) -> None:
        """Ask for the address (the patient's on file to start with), then send."""
        if self.patient_id is None:
            return
        actor, pid, documents = self.ctx.actor, self.patient_id, self.ctx.services.documents
        self.ctx.tasks.db(
            lambda: documents.email_address(actor, pid),
            lambda address: self._ask_address(document, address),
            lambda error: self.banner.show_error(message_for(error)),
            owner=self,
        )

    def _ask_address(self, document: PdfDocument, address: str) -> None:
        dialog = EmailDialog(document, address, self.widget)
        dialog.submitted.connect(lambda to: self._send(dialog, document, str(to)))
        dialog.open()

    def _send(self, dialog: EmailDialog, document: PdfDocument, to: str) -> None:
        assert self.patient_id is not None
        actor, pid = self.ctx.actor, self.patient_id
        services, tasks = self.ctx.services, self.ctx.tasks
        refuse = _refuser(dialog, self.banner)

        def prepared(outgoing: OutgoingEmail) -> None:
            tasks.network(lambda: services.mail.deliver(outgoing), delivered, refuse, owner=self)

        def delivered(delivery: Delivery) -> None:
            record = EmailRecord(document, to, delivery)
            tasks.db(
                lambda: services.documents.record_emailed(actor, pid, record),
                lambda _none: done(delivery),
                refuse,
                owner=self,
            )

        def done(delivery: Delivery) -> None:
            if _alive(dialog):
                dialog.finish()
            what = kind_label(document).capitalize()
            if delivery.sent:
                self.banner.show_success(f"{what} emailed to {to}.")
            else:
                folder = delivery.outbox_path.parent if delivery.outbox_path else ""
                self.banner.show_error(f"{what} {NOT_CONFIGURED} ({folder}).")
            self.emailed.emit(delivery)

        tasks.db(
            lambda: services.documents.prepare_email(actor, pid, document, to),
            prepared,
            refuse,
            owner=self,
        )


def _alive(widget: QWidget) -> bool:
    return shiboken6.isValid(widget) and widget.isVisible()


def _refuser(dialog: EmailDialog, banner: StatusBanner) -> Callable[[BaseException], None]:
    def refuse(error: BaseException) -> None:
        if _alive(dialog):
            dialog.refuse(error)
        else:
            banner.show_error(message_for(error))

    return refuse


def _print_failure(error: BaseException) -> str:
    return str(error) if isinstance(error, PrintError) else message_for(error)
