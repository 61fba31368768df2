"""The payment receipt patients keep: one payment application, or a payment on account.

Not a detailed receipt: it names each invoice paid with its service, practitioner and date,
and the amount, which is what a patient needs for their records or a first insurance claim.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, PageBreak, Spacer

from desk_app.services.documents.layout import (
    build_pdf,
    day,
    header,
    item_table,
    money,
    note,
    totals,
)
from desk_app.services.documents.parties import Branding, Party
from desk_app.services.documents.sections import parties_row, section_heading
from desk_app.services.receipts import Receipt, ReceiptKind

CREDIT_TEXT = "Payment held as account credit, for future visits and purchases"


def receipt_title(receipt: Receipt) -> str:
    return "Payment on account" if receipt.kind == ReceiptKind.ON_ACCOUNT else "Payment receipt"


def payment_receipt_story(branding: Branding, patient: Party, receipt: Receipt) -> list[Flowable]:
    story: list[Flowable] = header(
        branding,
        receipt_title(receipt),
        [("Receipt no.", receipt.number), ("Payment date", day(receipt.paid_at, branding))],
    )
    facts = [
        ("Payment date", day(receipt.paid_at, branding)),
        ("Method", receipt.method.label),
        ("Reference", receipt.reference),
        ("Payment amount", money(receipt.payment_cents, branding)),
    ]
    if receipt.from_credit:
        facts.insert(1, ("Applied on", day(receipt.applied_at, branding)))
    story.append(
        parties_row(branding, "Received from", patient, facts, birth_date=False, split=0.5)
    )
    if receipt.kind == ReceiptKind.ON_ACCOUNT:
        story += section_heading("Held on account", 16)
        story.append(
            item_table(
                branding,
                ["Description", "Amount"],
                [[CREDIT_TEXT, money(receipt.amount_cents, branding)]],
                [0.8, 0.2],
                amount_columns=[1],
            )
        )
    else:
        story += section_heading("Applied to", 16)
        rows = [
            [
                line.invoice_number,
                day(line.service_date or line.invoice_date, branding),
                line.description,
                line.practitioner,
                money(line.amount_cents, branding),
            ]
            for line in receipt.lines
        ]
        story.append(
            item_table(
                branding,
                ["Invoice", "Service date", "Item", "Practitioner", "Amount"],
                rows,
                [0.15, 0.15, 0.31, 0.24, 0.15],
                amount_columns=[4],
                plain_columns=[0, 1],
            )
        )
    story.append(
        totals(branding, [], ("Total of this receipt", money(receipt.amount_cents, branding)))
    )
    story.append(Spacer(1, 18))
    for paragraph in _notes(branding, receipt):
        story += [note(paragraph), Spacer(1, 4)]
    return story


def _notes(branding: Branding, receipt: Receipt) -> list[str]:
    notes = []
    if receipt.from_credit:
        notes.append(
            f"Paid from account credit on {day(receipt.applied_at, branding)}, out of a "
            f"payment received on {day(receipt.paid_at, branding)}."
        )
    rest = receipt.payment_cents - receipt.refunded_cents - receipt.amount_cents
    if receipt.amount_cents < receipt.payment_cents:
        sentence = (
            f"This receipt covers {money(receipt.amount_cents, branding)} of a "
            f"{money(receipt.payment_cents, branding)} payment"
        )
        parts = []
        if rest > 0:
            parts.append(f"the other {money(rest, branding)} is on its other receipts")
        if receipt.refunded_cents:
            parts.append(f"{money(receipt.refunded_cents, branding)} was refunded")
        notes.append(sentence + ("; " + " and ".join(parts) if parts else "") + ".")
    notes.append("Thank you. Please keep this receipt for your records.")
    return notes


def build_payment_receipts(
    branding: Branding, patient: Party, receipts: Sequence[Receipt]
) -> bytes:
    """One receipt, or several (a page of the Receipts tab), each starting on a new page."""
    story: list[Flowable] = []
    for index, receipt in enumerate(receipts):
        if index:
            story.append(PageBreak())
        story += payment_receipt_story(branding, patient, receipt)
    title = (
        f"{receipt_title(receipts[0])} {receipts[0].number}"
        if len(receipts) == 1
        else f"Receipts ({len(receipts)})"
    )
    return build_pdf(branding, title, story)
