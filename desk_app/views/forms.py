"""Form rows with an inline message under each field, keyed by ValidationError.field."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk_app.services.errors import ServiceError, ValidationError
from desk_app.views.a11y import labelled, name, plain
from desk_app.views.theme import app_icon, set_flag


class FieldForm:
    """A QFormLayout whose fields can each show a red message underneath.

    ``field`` keys are the names services put in ``ValidationError.field``.
    """

    def __init__(self) -> None:
        self.layout = QFormLayout()
        self.layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout.setHorizontalSpacing(14)
        self.layout.setVerticalSpacing(10)
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}
        self._line: int | None = None

    def _line_height(self) -> int:
        if self._line is None:
            probe = QLineEdit()
            probe.ensurePolished()
            self._line = probe.sizeHint().height()
            probe.deleteLater()
        return self._line

    def add(self, label: str, widget: QWidget, field: str | None = None, hint: str = "") -> None:
        lab = labelled(label, widget)
        if isinstance(widget, QComboBox):
            # The drop-down list and the completer's popup are controls too.
            completer = widget.completer()
            lists = [widget.view(), completer.popup() if completer is not None else None]
            for item_view in lists:
                if item_view is not None:
                    item_view.setAccessibleName(plain(label))
        # As tall as one line of input, pinned to the top of the row: the label stays level
        # with its field when a hint or an error appears underneath (or the field is tall).
        lab.setFixedHeight(self._line_height())
        lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        column = _field_column(widget, hint, spacing=3)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        self.layout.addRow(lab, column)
        if field is not None:
            self._fields[field] = (widget, error)

    def add_unlabelled(self, widget: QWidget, hint: str = "") -> None:
        """A row whose control carries its own label (a checkbox), with a hint under it."""
        self.layout.addRow("", _field_column(widget, hint, spacing=1, hint_indent=26))

    def knows(self, field: str | None) -> bool:
        return field is not None and field in self._fields

    def show_error(self, field: str, message: str) -> None:
        widget, error = self._fields[field]
        error.setText(message)
        error.show()
        widget.setAccessibleDescription(message)
        set_flag(widget, "invalid", True)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_refusal(self, error: BaseException, form_error: QLabel) -> bool:
        """Show why a service refused: under the field a ValidationError names, else in
        `form_error` (the form's own `form_error_label`).

        Returns False, showing nothing, for any other error (not a ServiceError): the caller
        passes that on, to its task runner's `default_failure`.
        """
        if isinstance(error, ValidationError) and self.knows(error.field):
            assert error.field is not None
            self.show_error(error.field, error.message)
        elif isinstance(error, ServiceError):
            form_error.setText(error.message)
            form_error.show()
        else:
            return False
        return True

    def error_text(self, field: str) -> str:
        _widget, error = self._fields[field]
        return "" if error.isHidden() else error.text()

    def clear_errors(self) -> None:
        for widget, error in self._fields.values():
            error.clear()
            error.hide()
            widget.setAccessibleDescription("")
            set_flag(widget, "invalid", False)


def _field_column(widget: QWidget, hint: str, *, spacing: int, hint_indent: int = 0) -> QVBoxLayout:
    """`widget` with its muted hint (if any) under it, for the field side of a form row."""
    column = QVBoxLayout()
    column.setSpacing(spacing)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(widget)
    if hint:
        hint_label = QLabel(hint)
        hint_label.setObjectName("muted")
        hint_label.setWordWrap(True)
        if hint_indent:
            hint_label.setContentsMargins(hint_indent, 0, 0, 0)
        column.addWidget(hint_label)
    return column


def form_error_label() -> QLabel:
    """A message box-in-the-form for errors that belong to no one field."""
    label = QLabel()
    label.setObjectName("formError")
    label.setIndent(0)
    label.setWordWrap(True)
    label.hide()
    return label


class DialogHeader(QWidget):
    """The app icon, a title and a muted line under it, across the top of a dialog."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(44, 44))
        icon.setFixedSize(48, 48)
        self.title = QLabel(title)
        self.title.setObjectName("dialogTitle")
        self.subtitle = QLabel(subtitle)
        self.subtitle.setObjectName("dialogSubtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setVisible(bool(subtitle))
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.title)
        words.addWidget(self.subtitle)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 4)
        row.setSpacing(12)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(words, 1)

    def set_subtitle(self, text: str) -> None:
        self.subtitle.setText(text)
        self.subtitle.setVisible(bool(text))


def push_button(text: str, *, primary: bool = False) -> QPushButton:
    """A button whose accessible name is its label; `primary` gets the accent colour."""
    button = QPushButton(text)
    name(button, text)
    if primary:
        button.setProperty("primary", True)
    return button


def cancel_and_save(
    dialog: QDialog, submit: Callable[[], None], save_label: str = "Save",
    *, leading: QWidget | None = None,
) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """A form's bottom row: `leading` (a Test button, a busy bar) on the left, then Cancel
    (rejects the dialog) and the default, primary `save_label` button (calls `submit`) on the
    right. Returns the row, Cancel and the save button."""
    cancel = push_button("Cancel")
    cancel.clicked.connect(dialog.reject)
    save = push_button(save_label, primary=True)
    save.setDefault(True)
    save.clicked.connect(submit)
    row = QHBoxLayout()
    if leading is not None:
        row.addWidget(leading)
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(save)
    return row, cancel, save


class FormDialog(QDialog):
    """A dialog that opens tall enough for its wrapped text.

    Qt sizes a new dialog from its size hint, which leaves out the extra height word-wrapped
    labels need at the dialog's real width; the rows would be squeezed until resized.
    """

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_height()

    def fit_height(self) -> None:
        layout = self.layout()
        if layout is None:
            return
        if layout.hasHeightForWidth():
            needed = layout.totalHeightForWidth(self.width())
        else:
            needed = layout.totalSizeHint().height()
        if needed > self.height():
            self.resize(self.width(), needed)
