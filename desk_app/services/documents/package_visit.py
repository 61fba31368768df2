"""The receipt for a visit paid with a package: which package, and how many uses are left.

Packages are not in the ledger yet. The packages feature fills in a `PackageVisit` for each
redemption and calls `build_package_visit_receipt`; nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reportlab.platypus import Flowable

from desk_app.services.documents.layout import (
    build_pdf,
    day,
    header,
    item_table,
    money,
    practitioner_cell,
    totals,
)
from desk_app.services.documents.parties import Branding, Party, Practitioner
from desk_app.services.documents.sections import closing_note, parties_row, section_heading


@dataclass(frozen=True, slots=True)
class PackageVisit:
    """One visit redeemed from a package."""

    number: str  # the receipt's number (the packages feature derives it from the redemption)
    package_name: str  # "5 × Massage 60 min"
    visit_at: datetime
    service: str  # the treatment given: a receipt for the patient may name it
    practitioner: Practitioner | None
    uses_remaining: int | None  # after this visit; None when the package has no limit
    uses_total: int | None = None
    uses_redeemed: int = 1
    expires_on: date | None = None
    #: The value of one use (price paid / uses), for the patient's records; None to leave out.
    value_cents: int | None = None

    @property
    def remaining_text(self) -> str:
        """'3 of 5', '3', or 'Unlimited'."""
        if self.uses_remaining is None:
            return "Unlimited"
        if self.uses_total is None:
            return str(self.uses_remaining)
        return f"{self.uses_remaining} of {self.uses_total}"


def build_package_visit_receipt(branding: Branding, patient: Party, visit: PackageVisit) -> bytes:
    story: list[Flowable] = header(
        branding,
        "Package visit receipt",
        [("Receipt no.", visit.number), ("Visit date", day(visit.visit_at, branding))],
    )
    facts = [
        ("Package", visit.package_name),
        ("Visit date", day(visit.visit_at, branding)),
        ("Uses remaining", visit.remaining_text),
    ]
    if visit.expires_on is not None:
        facts.append(("Expires", day(visit.expires_on, branding)))
    story.append(parties_row(branding, "Patient", patient, facts, birth_date=False))
    story += section_heading("Visit", 16)
    value = money(visit.value_cents, branding) if visit.value_cents is not None else "—"
    story.append(
        item_table(
            branding,
            ["Service date", "Service", "Practitioner", "Paid with", "Uses", "Value"],
            [
                [
                    day(visit.visit_at, branding),
                    visit.service,
                    practitioner_cell(visit.practitioner),
                    visit.package_name,
                    str(visit.uses_redeemed),
                    value,
                ]
            ],
            [0.15, 0.21, 0.22, 0.22, 0.08, 0.12],
            amount_columns=[4, 5],
            plain_columns=[0],
        )
    )
    story.append(
        totals(
            branding,
            [("Uses redeemed today", str(visit.uses_redeemed))],
            ("Uses remaining", visit.remaining_text),
        )
    )
    story += closing_note(
        "This visit was paid with your package; no payment was taken for it. "
        "Please keep this receipt for your records."
    )
    return build_pdf(branding, f"Package visit receipt {visit.number}", story)
