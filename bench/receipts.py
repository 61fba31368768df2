"""Building receipts as PDF, on the 100,000-patient clinic, against plain reportlab.

Two patients: the demo's first patient (a typical history) and the patient with 5 years of
history that profile_open adds (500 invoices, 800 payments). What is timed is what the desk
waits for after clicking View or Download Page: `PatientDocumentsService.payment_receipts`,
which reads the ledger, derives the patient's receipts and lays the PDF out (DejaVu Sans
embedded, clinic header, tables, footer). The layout alone is timed too, with and without a
logo. The baseline is the same receipt content built with reportlab's built-in Helvetica and
a plain table (what ENVIRONMENT.md quotes about 2.6 ms for), alternating with ours.

Goal: one receipt under 30 ms; a page of 10 receipts (one PDF) under 300 ms.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import Result, Row, Stats, large_db, ms, open_services, raw_connection
from bench.profile_open import history_patient

NAME = "receipts"
RUNS = 40
WARMUP = 3
GOAL_ONE_MS = 30.0
GOAL_PAGE_MS = 300.0


def typical_patient(path: Path) -> uuid.UUID:
    """The demo's first patient (Maddy), who has a few visits, payments and some credit."""
    connection = raw_connection(path)
    found = connection.execute(
        "SELECT id FROM patient WHERE preferred_name = 'Maddy' ORDER BY created_at LIMIT 1"
    ).fetchone()
    connection.close()
    if found is None:
        raise RuntimeError("the cached clinic has no demo patient Maddy; delete bench/.data/")
    return uuid.UUID(hex=found[0])


def logo_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (900, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 20, 210, 220), fill=(21, 118, 122, 255))
    draw.rectangle((250, 80, 880, 160), fill=(31, 42, 48, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def plain_reportlab(receipt: Any, patient: str, pages: int = 1) -> bytes:
    """The baseline: the same facts in Helvetica, a plain table, no embedded font or header."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    story: list[Any] = []
    for page in range(pages):
        if page:
            story.append(PageBreak())
        story += [
            Paragraph("Maple Grove Wellness — Payment receipt", styles["Title"]),
            Paragraph(f"Receipt {receipt.number}, received from {patient}", styles["Normal"]),
            Spacer(1, 12),
            Table(
                [["Invoice", "Item", "Amount"]]
                + [[x.invoice_number, x.description, str(x.amount_cents)] for x in receipt.lines]
                + [["", "Total", str(receipt.amount_cents)]]
            ),
        ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=letter).build(story)
    return out.getvalue()


def _alternate(
    runs: int, ours: Callable[[], object], base: Callable[[], object]
) -> tuple[Stats, Stats]:
    for _ in range(WARMUP):
        ours()
        base()
    a: list[float] = []
    b: list[float] = []
    perf = time.perf_counter
    for _ in range(runs):
        t0 = perf()
        ours()
        t1 = perf()
        base()
        t2 = perf()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return Stats.of_seconds(a), Stats.of_seconds(b)


def _time(runs: int, fn: Callable[[], object]) -> Stats:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return Stats.of_seconds(samples)


def run(path: Path | None = None, runs: int = RUNS) -> Result:
    from desk_app.models import Clinic, Patient
    from desk_app.services.documents.parties import branding_of, party_of
    from desk_app.services.documents.payment_receipt import build_payment_receipts

    path = path or large_db()
    history = history_patient(path)
    typical = typical_patient(path)
    services, actor = open_services(path)
    documents, receipts = services.documents, services.receipts
    with services.db.reading() as s:
        branding = branding_of(s.get_one(Clinic, actor.clinic_id))
        party = party_of(s.get_one(Patient, history))

    def one_receipt(patient: uuid.UUID, label: str) -> tuple[Row, dict[str, Any]]:
        page = receipts.page(actor, patient)
        if not page.receipts:
            raise RuntimeError(f"the {label} has no receipts")
        first = page.receipts[0]
        ours, base = _alternate(
            runs,
            lambda: documents.payment_receipts(actor, patient, [first]),
            lambda: plain_reportlab(first, party.name),
        )
        row = Row(
            f"one receipt, {label} (p95)",
            ms(ours.p95),
            f"plain reportlab {ms(base.p95)}",
            f"< {GOAL_ONE_MS:g} ms",
            ours.p95 < GOAL_ONE_MS,
        )
        return row, {
            "receipts": page.total,
            "one_receipt": ours.as_dict(),
            "one_receipt_plain_reportlab": base.as_dict(),
        }

    typical_row, typical_figures = one_receipt(typical, "typical patient")
    history_row, history_figures = one_receipt(history, "5-year history")

    page = receipts.page(actor, history)
    shown = list(page.receipts)
    whole, whole_base = _alternate(
        max(10, runs // 4),
        lambda: documents.payment_receipts(actor, history, shown),
        lambda: plain_reportlab(shown[0], party.name, len(shown)),
    )
    listing = _time(runs, lambda: receipts.page(actor, history))
    layout = _time(runs, lambda: build_payment_receipts(branding, party, shown[:1]))
    branded = replace(branding, logo=logo_png())
    with_logo = _time(runs, lambda: build_payment_receipts(branded, party, shown[:1]))
    services.db.dispose()

    result = Result(NAME)
    result.rows = [
        typical_row,
        history_row,
        Row(
            f"page of {len(shown)} receipts, 5-year history (p95)",
            ms(whole.p95),
            f"plain reportlab {ms(whole_base.p95)}",
            f"< {GOAL_PAGE_MS:g} ms",
            whole.p95 < GOAL_PAGE_MS,
        ),
        Row("receipts list page, 5-year history (median)", ms(listing.median), "", "", None),
        Row(
            "one receipt layout only, no logo / logo (median)",
            f"{ms(layout.median)} / {ms(with_logo.median)}",
            "",
            "",
            None,
        ),
    ]
    history_figures.update(
        {
            "page": whole.as_dict(),
            "page_plain_reportlab": whole_base.as_dict(),
            "page_size": len(shown),
            "list_page": listing.as_dict(),
            "layout_only": layout.as_dict(),
            "layout_only_with_logo": with_logo.as_dict(),
        }
    )
    result.details = {
        "database": str(path),
        "runs": runs,
        "patients": {"typical patient": typical_figures, "5-year history": history_figures},
    }
    return result
