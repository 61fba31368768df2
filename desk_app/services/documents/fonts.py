"""The typeface of every document: DejaVu Sans, shipped with the app.

reportlab's built-in Helvetica covers Latin-1 only, so "Nguyễn" would print with holes. DejaVu
Sans covers Latin, Greek, Cyrillic, Vietnamese and more; its licence (resources/fonts/LICENSE)
lets us ship it. Registered with reportlab once per process, on first use (reportlab itself is
imported then too: the Qt side only needs the font file, at start-up).
"""

from __future__ import annotations

import threading
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}

_lock = threading.Lock()
_registered = False


def font_path(name: str) -> Path:
    return FONTS_DIR / FILES[name]


def register_fonts() -> None:
    """Make REGULAR and BOLD known to reportlab (idempotent, thread-safe)."""
    global _registered
    if _registered:
        return
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _lock:
        if _registered:
            return
        for name in (REGULAR, BOLD):
            pdfmetrics.registerFont(TTFont(name, str(font_path(name))))
        # <b> in a Paragraph picks the bold face. (No italics: mapping one would make
        # reportlab take the regular face for italic.)
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        _registered = True
