"""The documents' typeface (DejaVu Sans, shipped with the app) made known to Qt as well."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QFontDatabase

from desk_app.services.documents.fonts import REGULAR, font_path

FALLBACK_FAMILY = "DejaVu Sans"


@cache
def document_font_family() -> str:
    """The family name to draw document text with in Qt (loaded from our font file once)."""
    font_id = QFontDatabase.addApplicationFont(str(font_path(REGULAR)))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else FALLBACK_FAMILY
