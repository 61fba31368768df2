"""The statement of account: opening balance, invoices, payments and refunds, closing balance."""

from __future__ import annotations

from datetime import date

from reportlab.platypus import Flowable, Spacer

from desk_app.services.documents.layout import build_pdf, day, header, item_table, money, totals
from desk_app.services.documents.parties import Branding, Party
from desk_app.services.documents.sections import closing_note, parties_row
from desk_app.services.statements import Statement


def period_text(statement: Statement, branding: Branding) -> str:
    return f"{day(statement.start, branding)} – {day(statement.end, branding)}"


def closing_line(statement: Statement, branding: Branding) -> tuple[str, str]:
    closing = statement.closing_cents
    if closing < 0:
        return "Credit on account", money(-closing, branding)
    return "Balance owing", money(closing, branding)


def build_statement(
    branding: Branding, patient: Party, statement: Statement, issued_on: date
) -> bytes:
    period = period_text(statement, branding)
    story: list[Flowable] = header(
        branding,
        "Statement of account",
        [("Period", period), ("Issued", day(issued_on, branding))],
    )
    facts = [
        ("Opening balance", money(statement.opening_cents, branding)),
        ("Charges", money(statement.charges_cents, branding)),
        ("Payments", money(statement.payments_cents, branding)),
    ]
    if statement.refunds_cents:
        facts.append(("Refunds", money(statement.refunds_cents, branding)))
    facts.append(("Closing balance", money(statement.closing_cents, branding)))
    story.append(parties_row(branding, "Statement for", patient, facts, birth_date=False))
    story.append(Spacer(1, 16))
    rows: list[list[str]] = [
        [day(statement.start, branding), "", "Opening balance", "", "",
         money(statement.opening_cents, branding)]
    ]  # fmt: skip
    for entry in statement.entries:
        rows.append(
            [
                day(entry.at, branding),
                entry.reference,
                entry.description,
                money(entry.charge_cents, branding) if entry.charge_cents else "",
                money(entry.payment_cents, branding) if entry.payment_cents else "",
                money(entry.balance_cents, branding),
            ]
        )
    rows.append(
        [day(statement.end, branding), "", "Closing balance", "", "",
         money(statement.closing_cents, branding)]
    )  # fmt: skip
    story.append(
        item_table(
            branding,
            ["Date", "Reference", "Description", "Charges", "Payments", "Balance"],
            rows,
            [0.15, 0.17, 0.29, 0.13, 0.13, 0.13],
            amount_columns=[3, 4, 5],
            plain_columns=[0],
        )
    )
    story.append(
        totals(
            branding,
            [
                ("Charges in period", money(statement.charges_cents, branding)),
                ("Payments in period", money(statement.payments_cents, branding)),
            ],
            closing_line(statement, branding),
        )
    )
    story += closing_note(
        "The balance is what was invoiced less what was paid. A negative balance is credit "
        "held on your account for future visits. Please contact us with any questions."
    )
    return build_pdf(branding, f"Statement of account, {period}", story)
