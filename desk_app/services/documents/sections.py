"""Sections more than one document prints, built from layout.py's pieces.

The parties row (who the document is for, beside its key facts), a section heading with its
spacing, the table of payments and the closing note.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, Spacer, Table

from desk_app.services.documents.layout import (
    day,
    facts_block,
    item_table,
    money,
    note,
    party_block,
    section_title,
    two_columns,
)
from desk_app.services.documents.parties import Branding, Party
from desk_app.services.invoice_details import AppliedPayment


def parties_row(
    branding: Branding,
    label: str,
    patient: Party,
    facts: Sequence[tuple[str, str]],
    *,
    birth_date: bool,
    split: float = 0.5,
) -> Table:
    """The patient (under `label`) on the left, the document's facts on the right."""
    return two_columns(
        branding,
        party_block(label, patient, branding, birth_date=birth_date),
        facts_block(facts),
        split=split,
    )


def section_heading(title: str, space_before: float) -> list[Flowable]:
    """A section's title, `space_before` points under what comes before it."""
    return [Spacer(1, space_before), section_title(title), Spacer(1, 4)]


def payments_table(
    branding: Branding,
    payments: Sequence[AppliedPayment],
    *,
    amount_heading: str = "Amount",
    empty: str = "No payments.",
) -> Table:
    """Each payment's date, method, reference and amount."""
    rows = [
        [day(p.paid_at, branding), p.method.label, p.reference, money(p.amount_cents, branding)]
        for p in payments
    ]
    return item_table(
        branding,
        ["Payment date", "Method", "Reference", amount_heading],
        rows,
        [0.2, 0.25, 0.35, 0.2],
        amount_columns=[3],
        plain_columns=[0, 1],
        empty=empty,
    )


def closing_note(value: str) -> list[Flowable]:
    """The note at the foot of a document, set apart from what is above it."""
    return [Spacer(1, 18), note(value)]
