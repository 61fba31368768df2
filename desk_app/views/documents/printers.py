"""The printers this computer has, behind one small class so tests can hand in their own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

#: Where the n-th job of a FilePrinters goes.
PathFor = Callable[[int], Path]


class Printers:
    """The system's printers (through CUPS on Linux, the print spooler on Windows)."""

    def names(self) -> list[str]:
        return [info.printerName() for info in QPrinterInfo.availablePrinters()]

    def default_printer(self) -> QPrinter | None:
        """The default printer, else the first one; None when none is installed."""
        info = QPrinterInfo.defaultPrinter()
        if info.isNull():
            available = QPrinterInfo.availablePrinters()
            if not available:
                return None
            info = available[0]
        return QPrinter(info, QPrinter.PrinterMode.HighResolution)

    def for_dialog(self) -> QPrinter:
        """A printer for the print dialog or the preview to set up."""
        return QPrinter(QPrinter.PrinterMode.HighResolution)


class FilePrinters(Printers):
    """ "Printers" that write PDF files: for tests, or a machine set up to print to files."""

    def __init__(self, path_for: PathFor) -> None:
        self._path_for = path_for
        self.jobs = 0

    def names(self) -> list[str]:
        return ["PDF file"]

    def default_printer(self) -> QPrinter | None:
        return self.for_dialog()

    def for_dialog(self) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        self.jobs += 1
        printer.setOutputFileName(str(self._path_for(self.jobs)))
        return printer


class NoPrinters(Printers):
    """A computer with no printer installed (as here: no CUPS)."""

    def names(self) -> list[str]:
        return []

    def default_printer(self) -> QPrinter | None:
        return None
