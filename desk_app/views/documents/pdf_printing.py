"""Printing a PDF exactly as it looks: QtPdf draws each page, the page goes onto the printer.

QPdfDocument renders pages as images (there is no vector path from QtPdf to a QPainter), so
each page is drawn at up to PRINT_DPI, sharp on paper. When the "printer" is a PDF file
(Qt's own PDF writer: "Print to file"), the page's text is laid over the picture invisibly,
where it is on the page, so the file can still be searched and its text copied.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, QSize
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPen,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter

from desk_app.views.documents.pdf_fonts import document_font_family

#: Dots per inch pages are drawn at: sharp text on any office printer, pages quick to draw.
PRINT_DPI = 300
POINTS_PER_INCH = 72.0


class PrintError(RuntimeError):
    """The PDF could not be read or the printer refused to start."""


class LoadedPdf:
    """A PDF held in memory for QtPdf (nothing is written to disk)."""

    def __init__(self, data: bytes) -> None:
        self.buffer = QBuffer()
        self.buffer.setData(QByteArray(data))
        self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument()
        self.document.load(self.buffer)
        if self.document.status() != QPdfDocument.Status.Ready:
            raise PrintError("The document could not be read for printing.")

    @property
    def page_count(self) -> int:
        return int(self.document.pageCount())

    def close(self) -> None:
        self.document.close()
        self.buffer.close()


def print_pdf(data: bytes, printer: QPrinter) -> int:
    """Print every page of `data` on `printer`; returns the number of pages printed.

    May run off the UI thread (painting on a QPrinter is allowed in any one thread at a time).
    """
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        # A PDF file takes the document's own paper; a real printer keeps its paper and each
        # page is fitted onto it.
        pdf = LoadedPdf(data)
        first = pdf.document.pagePointSize(0)
        pdf.close()
        printer.setPageLayout(
            QPageLayout(
                QPageSize(first, QPageSize.Unit.Point),
                QPageLayout.Orientation.Portrait,
                QMarginsF(0, 0, 0, 0),
            )
        )
    return paint_pdf_pages(data, printer)


def paint_pdf_pages(data: bytes, printer: QPrinter) -> int:
    """Paint every page of `data` on `printer` (also what the print preview shows)."""
    pdf = LoadedPdf(data)
    try:
        text_layer = printer.outputFormat() == QPrinter.OutputFormat.PdfFormat
        printer.setFullPage(True)
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintError("The printer could not be started; check that it is on and ready.")
        try:
            for page in range(pdf.page_count):
                if page and not printer.newPage():
                    raise PrintError("The printer stopped before the last page.")
                paint_page(painter, printer, pdf.document, page, text_layer=text_layer)
        finally:
            painter.end()
        return pdf.page_count
    finally:
        pdf.close()


def paint_page(
    painter: QPainter, printer: QPrinter, document: QPdfDocument, page: int, *, text_layer: bool
) -> None:
    """Draw one page fitted to the paper, centred, keeping its proportions."""
    size = document.pagePointSize(page)
    paper = printer.paperRect(QPrinter.Unit.DevicePixel)
    scale = min(paper.width() / size.width(), paper.height() / size.height())
    target = QRectF(
        paper.x() + (paper.width() - size.width() * scale) / 2,
        paper.y() + (paper.height() - size.height() * scale) / 2,
        size.width() * scale,
        size.height() * scale,
    )
    dpi = min(PRINT_DPI, printer.resolution())
    pixels = QSize(
        round(size.width() / POINTS_PER_INCH * dpi), round(size.height() / POINTS_PER_INCH * dpi)
    )
    # On white, without the alpha channel: a printer or PDF writer then has no mask to carry.
    image = document.render(page, pixels).convertToFormat(QImage.Format.Format_RGB32)
    painter.drawImage(target, image)
    if text_layer:
        _draw_text_layer(painter, document, page, target, scale)


def _draw_text_layer(
    painter: QPainter, document: QPdfDocument, page: int, target: QRectF, scale: float
) -> None:
    """The page's text, invisible, line by line where the picture shows it."""
    text = document.getAllText(page).text()
    if not text:
        return
    painter.save()
    painter.setPen(QPen(QColor(0, 0, 0, 0)))
    font = QFont(document_font_family())
    start = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        if content.strip():
            bounds = document.getSelectionAtIndex(page, start, len(content)).boundingRectangle()
            if bounds.height() > 0:
                _draw_line(painter, font, content, bounds, target, scale)
        start += len(line)
    painter.restore()


def _draw_line(
    painter: QPainter, font: QFont, content: str, bounds: QRectF, target: QRectF, scale: float
) -> None:
    height = bounds.height() * scale
    font.setPixelSize(max(1, round(height * 0.8)))
    painter.setFont(font)
    natural = QFontMetricsF(font).horizontalAdvance(content)
    if natural <= 0:
        return
    painter.save()
    painter.translate(
        QPointF(
            target.x() + bounds.x() * scale, target.y() + (bounds.y() + bounds.height()) * scale
        )
    )
    painter.scale(bounds.width() * scale / natural, 1.0)
    painter.drawText(QPointF(0, -height * 0.2), content)
    painter.restore()
