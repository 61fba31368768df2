"""Small helpers for GUI tests: find controls the way a screen reader would, by name."""

from __future__ import annotations

import uuid
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desk_app.views.main_window import ProfileFactory
from desk_app.views.view_context import ViewContext

W = TypeVar("W", bound=QWidget)


def find(root: QWidget, cls: type[W], name: str) -> W:
    """The one visible-or-not `cls` under `root` whose accessible name is `name`."""
    matches = [w for w in root.findChildren(cls) if w.accessibleName() == name]
    if len(matches) != 1:
        found = sorted({w.accessibleName() for w in root.findChildren(cls)})
        raise LookupError(
            f"expected one {cls.__name__} named {name!r} under {root!r}, found {len(matches)}; "
            f"names there: {found}"
        )
    return matches[0]


class PlaceholderProfile(QWidget):
    """Stands in for views.profile.ProfileView while that package is being written."""

    balance_changed = Signal()
    title_changed = Signal(str)

    def __init__(
        self, ctx: ViewContext, patient_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.patient_id = patient_id
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Profile of {patient_id}"))

    def reload(self) -> None:
        pass


def profile_factory() -> ProfileFactory | None:
    """None (the real ProfileView) once views.profile exists, else the placeholder."""
    try:
        from desk_app.views.profile import ProfileView  # noqa: F401
    except ImportError:
        return PlaceholderProfile
    return None
