"""The look of the app: style sheet, base font and window icon, found in the resources."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QWidget

import desk_app

log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(desk_app.__file__).resolve().parent
#: Looked up in order: files shipped inside the package, then the repository's resources/.
RESOURCE_DIRS = (_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources")

BASE_POINT_SIZE = 10.0


def resource_path(relative: str) -> Path | None:
    """The first existing file named `relative` in the resource folders, or None."""
    for folder in RESOURCE_DIRS:
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("icons/front-desk.svg", "icons/front-desk-256.png"):
        path = resource_path(name)
        if path is not None:
            icon.addFile(str(path))
    return icon


def style_sheet() -> str:
    """style.qss with @RESOURCES@ replaced by the folder it was found in (for url(...))."""
    path = resource_path("style.qss")
    if path is None:
        log.warning("style.qss not found in %s; using Qt's default look", RESOURCE_DIRS)
        return ""
    folder = path.parent.as_posix()
    return path.read_text(encoding="utf-8").replace("@RESOURCES@", folder)


def apply_theme(app: QApplication) -> None:
    """Fusion as the base (the same on every platform), our font size, colours and icon."""
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())


def set_flag(widget: QWidget, prop: str, value: bool = True) -> None:
    """Set a style-sheet property (primary, invalid, ...) and make the style notice it."""
    widget.setProperty(prop, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
