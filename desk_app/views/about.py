"""Help ▸ About: the versions a support person asks for first."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from desk_app import __version__
from desk_app.views.a11y import name
from desk_app.views.view_context import ViewContext


def about_text(schema_revision: str | None) -> str:
    return (
        f"<h3>Front Desk {__version__}</h3>"
        "<p>The front desk of a health and wellness clinic.</p>"
        f"<p>Qt {qVersion()} (PySide6 {pyside_version})<br>"
        f"Python {platform.python_version()}<br>"
        f"Database schema {schema_revision or 'unknown'}</p>"
    )


def show_about(parent: QWidget, ctx: ViewContext) -> None:
    """Ask the database thread for the schema revision, then show the box (non-blocking)."""

    def show(revision: str | None) -> None:
        box = QMessageBox(parent)
        box.setWindowTitle("About Front Desk")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_text(revision))
        box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        ok = box.button(QMessageBox.StandardButton.Ok)
        ok.setText("OK")
        name(ok, "OK")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setObjectName("aboutBox")
        box.open()

    ctx.tasks.db(ctx.services.db.schema_revision, show, owner=parent)
