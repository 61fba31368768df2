"""Small helpers for GUI tests: find controls the way a screen reader would, by name."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


def find(root: QWidget, cls: type[W], name: str, *, visible: bool = False) -> W:
    """The one `cls` under `root` whose accessible name is `name`.

    Hidden ones count too, unless `visible` (then only those shown when `root` is).
    """
    matches = [
        w
        for w in root.findChildren(cls)
        if w.accessibleName() == name and (not visible or w.isVisibleTo(root))
    ]
    if len(matches) != 1:
        found = sorted({w.accessibleName() for w in root.findChildren(cls)})
        raise LookupError(
            f"expected one {cls.__name__} named {name!r} under {root!r}, found {len(matches)}; "
            f"names there: {found}"
        )
    return matches[0]
