"""The clinic settings' Logo row: a small preview, "Logo…" to choose a PNG or JPEG, "Remove logo".

The file is read and checked when chosen (services.clinic_settings.check_logo: type and size);
it is saved with the other settings, so Cancel leaves the clinic's logo as it was.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QWidget

from desk_app.services.clinic_settings import check_logo
from desk_app.services.errors import ValidationError
from desk_app.views.forms import push_button

PREVIEW_SIZE = (180, 56)


class LogoField(QWidget):
    """Holds the logo as loaded and what the person chose since; `changed()` says which."""

    #: A chosen file was refused: the message to show under the row.
    refused = Signal(str)
    #: The logo on screen changed (chosen or removed).
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loaded: bytes | None = None
        self._current: bytes | None = None
        self.preview = QLabel("No logo")
        self.preview.setObjectName("muted")
        self.preview.setFixedSize(*PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet(
            "QLabel { border: 1px solid #d5dde1; border-radius: 4px; background: #ffffff; }"
        )
        self.choose_button = push_button("Logo…")
        self.choose_button.setToolTip("Choose a PNG or JPEG image (at most 512 KB).")
        self.remove_button = push_button("Remove logo")
        self.choose_button.clicked.connect(self.choose)
        self.remove_button.clicked.connect(self.remove)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.preview)
        row.addWidget(self.choose_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        self._show()

    # ----- state -----------------------------------------------------------------------------

    def set_loaded(self, logo: bytes | None) -> None:
        self._loaded = self._current = logo
        self._show()

    @property
    def logo(self) -> bytes | None:
        return self._current

    def changed(self) -> bool:
        return self._current != self._loaded

    def mark_saved(self) -> None:
        self._loaded = self._current

    # ----- choosing --------------------------------------------------------------------------

    def choose(self) -> QFileDialog:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        dialog = QFileDialog(self, "Choose the clinic's logo", folder)
        dialog.setObjectName("logoFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Images (*.png *.jpg *.jpeg)")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda chosen: self.use_file(Path(chosen)))
        dialog.open()
        return dialog

    def use_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.refused.emit(f"{path.name} could not be read: {exc.strerror or exc}.")
            return
        try:
            check_logo(data)
        except ValidationError as error:
            self.refused.emit(error.message)
            return
        self._current = data
        self._show()
        self.edited.emit()

    def remove(self) -> None:
        self._current = None
        self._show()
        self.edited.emit()

    def _show(self) -> None:
        self.remove_button.setEnabled(self._current is not None)
        if self._current is None:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("No logo")
            return
        pixmap = QPixmap()
        pixmap.loadFromData(self._current)
        width, height = PREVIEW_SIZE
        self.preview.setPixmap(
            pixmap.scaled(
                width - 8,
                height - 8,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
