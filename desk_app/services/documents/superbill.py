"""The superbill US patients send their insurer for out-of-network reimbursement.

Provider with registration/NPI, dates of service, items, fees and payments. Procedure (CPT)
and diagnosis (ICD-10) code columns are printed blank when the clinic has not recorded codes:
the patient or provider fills them in.
"""

from __future__ import annotations

from datetime import date

from reportlab.platypus import Flowable, Spacer

from desk_app.services.documents.layout import (
    CELL,
    CELL_MUTED,
    LABEL,
    build_pdf,
    day,
    facts_block,
    header,
    item_table,
    money,
    note,
    party_block,
    practitioner_cell,
    text,
    totals,
    two_columns,
)
from desk_app.services.documents.parties import Branding, Party
from desk_app.services.documents.sections import payments_table, section_heading
from desk_app.services.invoice_details import ServicesInPeriod


def build_superbill(
    branding: Branding,
    patient: Party,
    services: ServicesInPeriod,
    start: date,
    end: date,
    issued_on: date,
) -> bytes:
    period = f"{day(start, branding)} – {day(end, branding)}"
    story: list[Flowable] = header(
        branding, "Superbill", [("Period", period), ("Issued", day(issued_on, branding))]
    )
    providers: list[Flowable] = [text("RENDERING PROVIDER", LABEL), Spacer(1, 2)]
    for who in services.practitioners or ():
        providers.append(text(who.label, CELL))
        providers.append(text(f"NPI / registration: {who.registration_number or '—'}", CELL_MUTED))
    if len(providers) == 2:
        providers.append(text("—", CELL))
    story.append(
        two_columns(
            branding,
            party_block("Patient", patient, branding, birth_date=True),
            [
                facts_block(
                    [
                        ("Clinic", branding.name),
                        ("Tax ID", branding.tax_numbers),
                        ("Phone", branding.phone),
                    ]
                )
            ],
        )
    )
    story += [Spacer(1, 10), *providers]
    story += section_heading("Services", 14)
    rows = [
        [
            day(line.service_date, branding),
            "",  # CPT / HCPCS: not recorded
            "",  # ICD-10: not recorded
            line.description,
            practitioner_cell(line.practitioner),
            str(line.quantity),
            money(line.total_cents, branding),
        ]
        for line in services.lines
    ]
    story.append(
        item_table(
            branding,
            ["Service date", "CPT", "ICD-10", "Description", "Provider", "Units", "Fee"],
            rows,
            [0.15, 0.08, 0.09, 0.24, 0.23, 0.08, 0.13],
            amount_columns=[5, 6],
            plain_columns=[0, 1, 2],
            empty="No services in this period.",
        )
    )
    balance = services.charges_cents - services.paid_cents
    story.append(
        totals(
            branding,
            [
                ("Total charges", money(services.charges_cents, branding)),
                ("Payments received", money(services.paid_cents, branding)),
            ],
            ("Balance due", money(balance, branding)),
        )
    )
    if services.payments:
        story += section_heading("Payments", 12)
        story.append(payments_table(branding, services.payments))
    story += [
        Spacer(1, 26),
        two_columns(
            branding,
            text("Provider signature ______________________________", CELL),
            text("Date ________________", CELL),
            split=0.62,
        ),
        Spacer(1, 14),
        note(
            "Submit this superbill to your insurance company for reimbursement. Blank code "
            "columns were not recorded by the clinic; ask your provider if your insurer needs them."
        ),
    ]
    return build_pdf(branding, f"Superbill, {period}", story)
