"""Make the platform icons from the app icon (resources/icons/front-desk.svg).

    .venv/bin/python packaging/make_icons.py

writes packaging/icons/front-desk.ico (Windows: 16 to 256 px) and front-desk.icns (macOS:
16 to 1024 px), and the PNG sizes a Linux icon theme installs (hicolor/<n>x<n>/apps).
Qt draws the SVG at each size (small sizes are drawn, not shrunk from a big bitmap, so they
stay crisp); Pillow writes the containers. The results are committed, so a Windows or macOS
build needs neither step; run this again after changing the SVG (a test checks they match).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "front-desk.svg"
OUT = Path(__file__).resolve().parent / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)
HICOLOR_SIZES = (16, 32, 48, 64, 128, 256, 512)


def render_png(size: int, svg: Path = SVG) -> bytes:
    """The SVG drawn at size x size by Qt, as PNG bytes (transparent around the tile)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def make_icons(out: Path = OUT, svg: Path = SVG) -> list[Path]:
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    pngs = {
        size: Image.open(io.BytesIO(render_png(size, svg))).convert("RGBA")
        for size in sorted({*ICO_SIZES, *ICNS_SIZES, *HICOLOR_SIZES})
    }
    written: list[Path] = []
    ico = out / "front-desk.ico"
    # Pillow writes an ICO's sizes from the largest image given, each drawn frame appended.
    pngs[256].save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                   append_images=[pngs[s] for s in ICO_SIZES if s != 256])
    written.append(ico)
    icns = out / "front-desk.icns"
    pngs[1024].save(icns, format="ICNS", append_images=[pngs[s] for s in ICNS_SIZES[:-1]])
    written.append(icns)
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / "front-desk.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        pngs[size].save(target, format="PNG", optimize=True)
        written.append(target)
    return written


if __name__ == "__main__":
    for path in make_icons():
        print(path.relative_to(ROOT))
