"""The detailed invoice receipt: everything an insurer asks for on a claim.

Each service with its date, the practitioner who provided it and their registration number,
quantity, price and tax; the invoice's totals; and the payments applied to it.
"""

from __future__ import annotations

from datetime import date

from reportlab.platypus import Flowable, Spacer

from desk_app.services.documents.layout import (
    CELL,
    build_pdf,
    day,
    header,
    item_table,
    money,
    practitioner_cell,
    text,
    totals,
)
from desk_app.services.documents.parties import Branding, Party
from desk_app.services.documents.sections import (
    closing_note,
    parties_row,
    payments_table,
    section_heading,
)
from desk_app.services.invoice_details import InvoiceDetail


def tax_rate_text(basis_points: int) -> str:
    whole, frac = divmod(basis_points, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


def build_invoice_receipt(
    branding: Branding, patient: Party, invoice: InvoiceDetail, issued_on: date
) -> bytes:
    story: list[Flowable] = header(
        branding,
        "Detailed receipt",
        [("Invoice no.", invoice.number), ("Issued", day(issued_on, branding))],
    )
    status = "Paid in full" if invoice.balance_cents <= 0 else "Balance owing"
    story.append(
        parties_row(
            branding,
            "Patient",
            patient,
            [
                ("Invoice no.", invoice.number),
                ("Invoice date", day(invoice.issued_at, branding)),
                ("Status", status),
            ],
            birth_date=True,
        )
    )
    providers = invoice.practitioners
    if providers:
        story.append(Spacer(1, 10))
        for who in providers:
            reg = f" · Registration {who.registration_number}" if who.registration_number else ""
            story.append(text(f"Provided by {who.label}{reg}", CELL))
    story += section_heading("Services", 14)
    rows = [
        [
            day(line.service_date, branding),
            line.description,
            practitioner_cell(line.practitioner),
            str(line.quantity),
            money(line.unit_price_cents, branding),
            f"{money(line.tax_cents, branding)}"
            + (f"\n({tax_rate_text(line.tax_rate_bp)})" if line.tax_rate_bp else ""),
            money(line.total_cents, branding),
        ]
        for line in invoice.lines
    ]
    story.append(
        item_table(
            branding,
            ["Service date", "Item", "Practitioner", "Qty", "Price", "Tax", "Amount"],
            rows,
            [0.15, 0.23, 0.24, 0.06, 0.11, 0.09, 0.12],
            amount_columns=[3, 4, 5, 6],
            plain_columns=[0],
        )
    )
    figures = [
        ("Subtotal", money(invoice.subtotal_cents, branding)),
        ("Tax", money(invoice.tax_cents, branding)),
        ("Total", money(invoice.total_cents, branding)),
        ("Paid", money(invoice.paid_cents, branding)),
    ]
    story.append(
        totals(branding, figures, ("Balance owing", money(invoice.balance_cents, branding)))
    )
    story += section_heading("Payments applied", 14)
    story.append(
        payments_table(
            branding,
            invoice.payments,
            amount_heading="Amount applied",
            empty="No payment is applied to this invoice yet.",
        )
    )
    story += closing_note(
        "A detailed receipt for your insurer: each service with its date and the "
        "practitioner who provided it, with their registration number, and the payments "
        "applied to this invoice."
    )
    return build_pdf(branding, f"Receipt for invoice {invoice.number}", story)
