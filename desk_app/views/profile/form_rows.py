"""A labelled form row whose field carries its own error line underneath."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from desk_app.views import a11y
from desk_app.views.profile.inline_error import InlineError, mark_invalid
from desk_app.views.profile.money_field import MoneyField

ShowError = Callable[[str], None]


def caption_for(label: str, widget: QWidget) -> QLabel:
    """The row's label, its buddy set and the control named after it, aligned with the field."""
    target = widget.line_edit if isinstance(widget, MoneyField) else widget
    caption = a11y.labelled(label, target)
    if isinstance(widget, QComboBox):
        # The drop-down list is a control of its own once it has been shown.
        a11y.name(widget.view(), f"{a11y.plain(label)} choices")
    caption.setContentsMargins(0, 6, 0, 0)
    caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return caption


def add_row(
    form: QFormLayout, label: str, widget: QWidget, control: QWidget | None = None
) -> tuple[QWidget, ShowError]:
    """Add `label` and `widget` to `form`; returns the row's field widget and its error setter.

    `control` is the input that gets the red ring when `widget` is a compound holder.
    """
    caption = caption_for(label, control or widget)
    if isinstance(widget, MoneyField):
        form.addRow(caption, widget)
        return widget, widget.show_error
    ringed = control or widget
    holder = QWidget()
    column = QVBoxLayout(holder)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(4)
    column.addWidget(widget)
    inline = InlineError()
    column.addWidget(inline)

    def show(message: str) -> None:
        inline.show_message(message)
        mark_invalid(ringed, bool(message))

    form.addRow(caption, holder)
    return holder, show
