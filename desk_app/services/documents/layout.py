"""The look every document shares: page, clinic header, facts, tables, totals and footer.

Each document module (payment_receipt, invoice_receipt, statement, ...) lays out its own
content with these parts and hands the story to `build_pdf`. Sizes are in points.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from desk_app.models.money import format_money
from desk_app.services.clock import to_clinic_time
from desk_app.services.documents.fonts import BOLD, REGULAR, register_fonts
from desk_app.services.documents.parties import Branding, Party, Practitioner

# Paragraph styles below name the fonts: they must be known before any paragraph is made.
register_fonts()
rl_config.useA85 = 0  # images as plain Flate streams: ASCII85 in pure Python is slow

INK = colors.HexColor("#1f2a30")
MUTED = colors.HexColor("#5b6b73")
ACCENT = colors.HexColor("#15767a")
RULE = colors.HexColor("#d5dde1")
HEAD_BG = colors.HexColor("#eef4f4")
SOFT_BG = colors.HexColor("#f6f9f9")

MARGIN_X = 0.75 * inch
MARGIN_TOP = 0.6 * inch
MARGIN_BOTTOM = 0.85 * inch
#: The largest box a logo is drawn in; it keeps its proportions inside it.
LOGO_BOX = (2.0 * inch, 0.85 * inch)
#: Logos are scaled down to this many pixels across before they are embedded (fast, small).
LOGO_MAX_PIXELS = 600

#: Countries that print on US Letter; the rest of the world uses A4.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR"})


def page_size(branding: Branding) -> tuple[float, float]:
    return letter if branding.country.upper() in LETTER_COUNTRIES else A4


def content_width(branding: Branding) -> float:
    return page_size(branding)[0] - 2 * MARGIN_X


# ----- text ----------------------------------------------------------------------------------


def _style(name: str, **kw: Any) -> ParagraphStyle:
    base: dict[str, Any] = {
        "fontName": REGULAR,
        "fontSize": 9,
        "leading": 12.5,
        "textColor": INK,
    }
    base.update(kw)
    return ParagraphStyle(name, **base)


BODY = _style("body")
SMALL = _style("small", fontSize=8, leading=11, textColor=MUTED)
NOTE = _style("note", fontSize=8, leading=11.5, textColor=MUTED)
CLINIC = _style("clinic", fontName=BOLD, fontSize=13, leading=16)
TITLE = _style(
    "title", fontName=BOLD, fontSize=18, leading=22, textColor=ACCENT, alignment=TA_RIGHT
)
META = _style("meta", fontSize=8.5, leading=12, textColor=MUTED, alignment=TA_RIGHT)
LABEL = _style("label", fontName=BOLD, fontSize=7, leading=9, textColor=MUTED)
NAME = _style("name", fontName=BOLD, fontSize=10.5, leading=14)
CELL = _style("cell", fontSize=8.5, leading=11)
CELL_MUTED = _style("cellMuted", fontSize=7.5, leading=10, textColor=MUTED)
HEAD = _style("head", fontName=BOLD, fontSize=7, leading=9, textColor=MUTED)
SECTION = _style("section", fontName=BOLD, fontSize=9.5, leading=13, textColor=INK, spaceBefore=4)
TOTAL_LABEL = _style("totalLabel", fontSize=9, leading=12.5, alignment=TA_RIGHT, textColor=MUTED)
TOTAL_VALUE = _style("totalValue", fontSize=9, leading=12.5, alignment=TA_RIGHT)
GRAND_LABEL = _style("grandLabel", fontName=BOLD, fontSize=10.5, leading=14, alignment=TA_RIGHT)
GRAND_VALUE = _style("grandValue", fontName=BOLD, fontSize=10.5, leading=14, alignment=TA_RIGHT)


def text(value: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text: markup characters in names and items are shown as typed."""
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def money(cents: int, branding: Branding) -> str:
    return format_money(cents, branding.currency)


def day(moment: datetime | date | None, branding: Branding) -> str:
    """'Nov 21, 2026' in the clinic's time zone ('' when there is none), never split."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = to_clinic_time(moment, branding.time_zone).date()
    return f"{moment:%b}\u00a0{moment.day},\u00a0{moment.year}"


# ----- the clinic header ---------------------------------------------------------------------


@lru_cache(maxsize=4)
def _logo_reader(data: bytes) -> tuple[ImageReader, int, int]:
    """The logo scaled down and made a JPEG once for every document.

    reportlab embeds a JPEG as it is, where a PNG would be decoded and compressed again for
    every receipt (a few milliseconds each).
    """
    with PILImage.open(io.BytesIO(data)) as source:
        image = source.convert("RGBA")
    if image.width > LOGO_MAX_PIXELS:
        height = max(1, round(image.height * LOGO_MAX_PIXELS / image.width))
        image = image.resize((LOGO_MAX_PIXELS, height), PILImage.Resampling.LANCZOS)
    # Transparent parts go on the page's white (JPEG has no transparency).
    backdrop = PILImage.new("RGB", image.size, "white")
    backdrop.paste(image, mask=image.getchannel("A"))
    out = io.BytesIO()
    backdrop.save(out, "JPEG", quality=92, subsampling=0)
    return ImageReader(io.BytesIO(out.getvalue())), backdrop.width, backdrop.height


class Logo(Flowable):
    """The clinic's logo, drawn from the reader decoded once (platypus.Image re-reads bytes)."""

    def __init__(self, reader: ImageReader, width: float, height: float) -> None:
        super().__init__()
        self.reader = reader
        self.width = width
        self.height = height
        self.hAlign = "LEFT"

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.reader, 0, 0, self.width, self.height)


def logo_flowable(logo: bytes) -> Logo | None:
    try:
        reader, width, height = _logo_reader(logo)
    except (OSError, ValueError):
        return None  # a logo that no longer decodes is left off, never a failed receipt
    box_w, box_h = LOGO_BOX
    scale = min(box_w / width, box_h / height, 1.0)
    return Logo(reader, width * scale, height * scale)


def clinic_block(branding: Branding) -> list[Flowable]:
    parts: list[Flowable] = []
    if branding.logo:
        logo = logo_flowable(branding.logo)
        if logo is not None:
            parts += [logo, Spacer(1, 6)]
    parts.append(text(branding.name, CLINIC))
    lines = [line.strip() for line in branding.address.splitlines() if line.strip()]
    contact = " · ".join(v for v in (branding.phone, branding.email) if v)
    if contact:
        lines.append(contact)
    if lines:
        parts.append(text("\n".join(lines), SMALL))
    return parts


def header(branding: Branding, title: str, meta: Sequence[tuple[str, str]]) -> list[Flowable]:
    """The clinic (logo, name, address, contact) beside the document's title and facts."""
    width = content_width(branding)
    right: list[Flowable] = [text(title, TITLE), Spacer(1, 4)]
    for label, value in meta:
        if value:
            right.append(
                Paragraph(f"{escape(label)} <font color='#1f2a30'>{escape(value)}</font>", META)
            )
    table = Table(
        [[clinic_block(branding), right]],
        colWidths=[width * 0.56, width * 0.44],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    return [
        table,
        Spacer(1, 10),
        HRFlowable(width="100%", thickness=1.4, color=ACCENT, spaceBefore=0, spaceAfter=12),
    ]


# ----- facts, parties, tables, totals --------------------------------------------------------


def party_block(label: str, party: Party, branding: Branding, *, birth_date: bool) -> list[Any]:
    parts: list[Any] = [text(label.upper(), LABEL), Spacer(1, 2), text(party.name, NAME)]
    if birth_date and party.date_of_birth is not None:
        parts.append(text(f"Date of birth: {day(party.date_of_birth, branding)}", SMALL))
    return parts


def facts_block(facts: Sequence[tuple[str, str]]) -> Table:
    """Label: value rows, labels muted, for the right-hand side of the parties row."""
    rows = [[label, text(value, CELL)] for label, value in facts if value]
    table = Table(rows or [["", ""]], colWidths=[1.15 * inch, 1.75 * inch], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), REGULAR, SMALL.fontSize, CELL.leading),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def two_columns(branding: Branding, left: Any, right: Any, split: float = 0.5) -> Table:
    """`left` and `right` side by side; what is in the right column keeps to the right edge."""
    width = content_width(branding)
    return Table(
        [[left, right]],
        colWidths=[width * split, width * (1 - split)],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def practitioner_cell(who: Practitioner | None) -> list[Flowable] | str:
    """A table cell naming who provided a service, their registration number under it."""
    if who is None:
        return ""
    cell: list[Flowable] = [text(who.label, CELL)]
    if who.registration_number:
        cell.append(text(f"Reg. {who.registration_number}", CELL_MUTED))
    return cell


def section_title(value: str) -> Paragraph:
    return text(value, SECTION)


def item_table(
    branding: Branding,
    headings: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    amount_columns: Sequence[int],
    *,
    plain_columns: Sequence[int] = (),
    empty: str = "Nothing to show.",
) -> Table:
    """A table of items: muted capitalised headings on a tint, thin rules between rows.

    `widths` are fractions of the content width; cells may be text or flowables. Columns in
    `amount_columns` are right-aligned. Text in amount and `plain_columns` (dates, numbers) is
    set as it is, without wrapping; other text wraps to its column (a paragraph each: slower).
    """
    total_width = content_width(branding)
    plain = set(amount_columns) | set(plain_columns)
    body: list[list[Any]] = []
    for row in rows:
        body.append(
            [
                text(cell, CELL) if isinstance(cell, str) and i not in plain else cell
                for i, cell in enumerate(row)
            ]
        )
    if not body:
        body = [[text(empty, CELL_MUTED)] + [""] * (len(headings) - 1)]
    head = [h.upper() for h in headings]
    table = Table([head, *body], colWidths=[w * total_width for w in widths], repeatRows=1)
    style: list[Any] = [
        ("FONT", (0, 0), (-1, 0), BOLD, HEAD.fontSize, HEAD.leading),
        ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
        ("FONT", (0, 1), (-1, -1), REGULAR, CELL.fontSize, CELL.leading),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, 0), 6),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 5),
        ("TOPPADDING", (0, 1), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 6),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
    ]
    for column in amount_columns:
        style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    if not rows:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    return table


def totals(
    branding: Branding, rows: Sequence[tuple[str, str]], grand: tuple[str, str] | None
) -> KeepTogether:
    """Right-aligned figures under a table; `grand` is the bold line that matters."""
    data: list[list[Any]] = [[text(k, TOTAL_LABEL), text(v, TOTAL_VALUE)] for k, v in rows]
    style: list[Any] = [
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if grand is not None:
        data.append([text(grand[0], GRAND_LABEL), text(grand[1], GRAND_VALUE)])
        last = len(data) - 1
        style += [
            ("LINEABOVE", (0, last), (-1, last), 1, ACCENT),
            ("TOPPADDING", (0, last), (-1, last), 6),
            ("BACKGROUND", (0, last), (-1, last), SOFT_BG),
            ("BOTTOMPADDING", (0, last), (-1, last), 6),
        ]
    width = content_width(branding)
    table = Table(data, colWidths=[width * 0.32, width * 0.18], hAlign="RIGHT")
    table.setStyle(TableStyle(style))
    return KeepTogether([Spacer(1, 8), table])


def note(value: str) -> Paragraph:
    return text(value, NOTE)


# ----- the page and the footer ---------------------------------------------------------------


def _footer_canvas(branding: Branding) -> type[Canvas]:
    """A canvas that writes each page's footer once it knows how many pages there are."""
    left_text = " · ".join(v for v in (branding.name, branding.tax_numbers) if v)
    page_width = page_size(branding)[0]

    class FooterCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's own page reset

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            width = page_width
            y = MARGIN_BOTTOM - 0.38 * inch
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, y + 11, width - MARGIN_X, y + 11)
            self.setFillColor(MUTED)
            self.setFont(REGULAR, 7.5)
            self.drawString(MARGIN_X, y, left_text)
            self.drawRightString(width - MARGIN_X, y, f"Page {number} of {total}")
            self.restoreState()

    return FooterCanvas


def build_pdf(
    branding: Branding, title: str, story: Sequence[Flowable], subject: str = ""
) -> bytes:
    """Lay `story` out on the clinic's paper and return the PDF's bytes."""
    register_fonts()
    out = io.BytesIO()
    size = page_size(branding)
    doc = BaseDocTemplate(
        out,
        pagesize=size,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=branding.name,
        subject=subject or title,
        creator="Front Desk",
        invariant=True,
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        size[0] - 2 * MARGIN_X,
        size[1] - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate("page", [frame])])
    doc.build(list(story), canvasmaker=_footer_canvas(branding))
    return out.getvalue()
