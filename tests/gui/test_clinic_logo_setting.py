"""Clinic settings > Logo…: choose a PNG or JPEG for the receipts' header, or remove it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desk_app.services.actor import Actor
from desk_app.services.registry import Services
from desk_app.views.clinic_settings_dialog import ClinicSettingsDialog
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers import find

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton


def logo_file(folder: Path, fmt: str = "PNG") -> Path:
    path = folder / f"logo.{fmt.lower()}"
    out = io.BytesIO()
    Image.new("RGB", (320, 90), (21, 118, 122)).save(out, fmt)
    path.write_bytes(out.getvalue())
    return path


def settings_dialog(qtbot: QtBot, ctx: ViewContext) -> ClinicSettingsDialog:
    dialog = ClinicSettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.ready), timeout=10_000)
    wait_idle(qtbot, ctx)
    return dialog


def test_a_logo_chosen_is_saved_with_the_settings(
    qtbot: QtBot, owner_ctx: ViewContext, demo_services: Services, owner: Actor, tmp_path: Path
) -> None:
    path = logo_file(tmp_path)
    dialog = settings_dialog(qtbot, owner_ctx)
    remove = find(dialog, QPushButton, "Remove logo")
    assert not remove.isEnabled()

    qtbot.mouseClick(find(dialog, QPushButton, "Logo…"), LEFT)
    chooser = next(d for d in dialog.findChildren(QFileDialog) if d.isVisible())
    chooser.setDirectory(str(tmp_path))
    name_box = chooser.findChild(QLineEdit, "fileNameEdit")
    assert name_box is not None
    name_box.setText(path.name)
    chooser.accept()
    assert remove.isEnabled() and dialog.logo.changed()
    assert dialog.logo.preview.pixmap() is not None and not dialog.logo.preview.pixmap().isNull()

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.mouseClick(find(dialog, QPushButton, "Save"), LEFT)
    assert demo_services.clinic.logo(owner) == path.read_bytes()


def test_a_file_that_is_not_an_image_is_refused_under_the_row(
    qtbot: QtBot, owner_ctx: ViewContext, demo_services: Services, owner: Actor, tmp_path: Path
) -> None:
    bad = tmp_path / "logo.png"
    bad.write_bytes(b"not an image at all")
    dialog = settings_dialog(qtbot, owner_ctx)
    dialog.logo.use_file(bad)
    assert "PNG or JPEG" in dialog.form.error_text("logo")
    assert not dialog.logo.changed()
    assert demo_services.clinic.logo(owner) is None


def test_removing_the_logo_and_cancelling_keeps_it(
    qtbot: QtBot, owner_ctx: ViewContext, demo_services: Services, owner: Actor, tmp_path: Path
) -> None:
    demo_services.clinic.set_logo(owner, logo_file(tmp_path, "JPEG").read_bytes())
    dialog = settings_dialog(qtbot, owner_ctx)
    qtbot.waitUntil(lambda: dialog.logo.logo is not None, timeout=10_000)
    qtbot.mouseClick(find(dialog, QPushButton, "Remove logo"), LEFT)
    assert dialog.logo.logo is None and dialog.logo.changed()
    qtbot.mouseClick(find(dialog, QPushButton, "Cancel"), LEFT)
    assert demo_services.clinic.logo(owner) is not None
