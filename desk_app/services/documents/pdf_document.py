"""A finished document: the PDF's bytes and what the desk needs to show, save or send it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PdfDocument:
    """A finished document, ready to show, print, save or attach."""

    kind: str  # "receipt", "statement", "superbill": what the email and audit call it
    title: str  # "Payment receipt R-DESK1-…": the preview's window title
    filename: str  # suggested when saving; no patient name in it
    data: bytes
    reference: str = ""  # the receipt, invoice or statement it is
    amount_cents: int = 0  # the headline amount (the email says it)
