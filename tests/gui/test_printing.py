"""Printing a PDF faithfully: QtPdf draws each page onto the printer. Here the printer is Qt's
PDF writer (a file), so what came out can be read back and compared."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from desk_app.models import PaymentMethod
from desk_app.services.documents.parties import Branding, Party
from desk_app.services.documents.payment_receipt import build_payment_receipts
from desk_app.services.receipts import Receipt, ReceiptKind
from desk_app.views.documents.pdf_printing import PrintError, print_pdf
from tests.pdf_checks import (
    assert_page_looks_printed,
    page_count,
    page_points,
    pdf_text,
    render_pages,
)

pytestmark = pytest.mark.gui

ZOE = "Zoë Ødegård-Nguyễn"


def on_account(n: int) -> Receipt:
    paid = datetime(2026, 11, n, 18, 0, tzinfo=UTC)
    return Receipt(
        id=uuid.uuid4(),
        number=f"R-DESK1-0000-0000-000{n}",
        kind=ReceiptKind.ON_ACCOUNT,
        payment_id=uuid.uuid4(),
        paid_at=paid,
        applied_at=paid,
        method=PaymentMethod.CASH,
        reference="",
        payment_cents=1000 * n,
        refunded_cents=0,
        amount_cents=1000 * n,
    )


def file_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_every_page_prints_with_its_text_where_it_was(qtbot: QtBot, tmp_path: Path) -> None:
    branding = Branding(name="Maple Grove Wellness", tax_numbers="HST 81234 5678 RT0001")
    original = build_payment_receipts(branding, Party(ZOE), [on_account(n) for n in (1, 2, 3)])
    out = tmp_path / "printed.pdf"

    assert print_pdf(original, file_printer(out)) == 3

    printed = out.read_bytes()
    assert page_count(printed) == 3
    assert page_points(printed) == pytest.approx(page_points(original), abs=1)
    text = pdf_text(printed)
    assert text.count(ZOE) == 3
    for n in (1, 2, 3):
        assert f"R-DESK1-0000-0000-000{n}" in text and f"${10 * n}.00" in text
    for png in render_pages(printed, tmp_path, "printed"):
        assert_page_looks_printed(png, page_points(printed))


def test_a4_documents_print_on_a4(qtbot: QtBot, tmp_path: Path) -> None:
    branding = Branding(name="Clinic", currency="GBP", time_zone="Europe/London", country="GB")
    original = build_payment_receipts(branding, Party(ZOE), [on_account(4)])
    out = tmp_path / "a4.pdf"
    print_pdf(original, file_printer(out))
    assert page_points(out.read_bytes()) == pytest.approx((595.3, 841.9), abs=1)


def test_a_broken_pdf_is_refused_clearly(qtbot: QtBot, tmp_path: Path) -> None:
    with pytest.raises(PrintError, match="could not be read"):
        print_pdf(b"%PDF-1.4 not really", file_printer(tmp_path / "never.pdf"))
    assert not (tmp_path / "never.pdf").exists()
