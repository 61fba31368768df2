"""Looking at a PDF the way a test can: its text (pypdf) and its pages as PNGs (pdftoppm)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

#: Points per inch, and the resolution pages are rendered at (as in the docs' pictures).
POINTS = 72
DPI = 80


def pdf_text(data: bytes) -> str:
    """Every page's text with runs of whitespace made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def page_points(data: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return float(box.width), float(box.height)


def render_pages(data: bytes, folder: Path, name: str, dpi: int = DPI) -> list[Path]:
    """Each page as a PNG made by poppler's pdftoppm (fails loudly if it is missing)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: install poppler-utils (./dev setup does)"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        [pdftoppm, "-png", "-r", str(dpi), str(pdf), str(folder / name)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pngs = sorted(folder.glob(f"{name}-*.png"))
    assert pngs, f"pdftoppm wrote no page for {pdf}"
    return pngs


def assert_page_looks_printed(png: Path, points: tuple[float, float], dpi: int = DPI) -> None:
    """The picture is the page's size and carries ink: not blank, not a sliver."""
    assert png.exists() and png.stat().st_size > 0
    with Image.open(png) as image:
        width, height = image.size
        expected = (points[0] * dpi / POINTS, points[1] * dpi / POINTS)
        assert abs(width - expected[0]) <= 1 and abs(height - expected[1]) <= 1, image.size
        grey = image.convert("L")
        histogram = grey.histogram()
    inked = sum(histogram[:200])  # clearly darker than paper
    assert inked > 0.01 * width * height, f"{png.name} is (nearly) blank: {inked} dark pixels"
