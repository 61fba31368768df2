"""The shape every profile dialog shares: a titled form, a refusal area, Cancel and one action.

A dialog only collects and checks what was typed. Pressing its action emits `submitted` with a
request object; the tab runs the service call in the background and then calls `finish()`
(close) or `refuse(error)` (stay open and say why, next to the field when the service names
one). Dialogs are opened with `open()`, never `exec()`, so nothing blocks the event loop.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk_app.views import a11y
from desk_app.views.profile.failures import field_of, message_for
from desk_app.views.profile.form_rows import ShowError, add_row, caption_for
from desk_app.views.profile.inline_error import InlineError


class ActionDialog(QDialog):
    submitted = Signal(object)

    def __init__(
        self,
        title: str,
        action_label: str,
        subtitle: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(460)
        self._field_errors: dict[str, ShowError] = {}
        self._busy = False
        #: Focused when the dialog opens.
        self.first_input: QWidget | None = None

        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        heading.setStyleSheet("font-size: 15pt; font-weight: 600; color: #15767a;")
        self.subtitle = QLabel(subtitle)
        self.subtitle.setObjectName("dialogSubtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setVisible(bool(subtitle))

        self.form = QFormLayout()
        self.form.setHorizontalSpacing(16)
        self.form.setVerticalSpacing(10)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.error = InlineError()
        self.error.setObjectName("formError")
        self.error.setStyleSheet(
            "QLabel { color: #b42318; background: #fdf0ef; border: 1px solid #f1c3be;"
            " border-radius: 5px; padding: 6px 10px; }"
        )

        self.cancel_button = QPushButton("Cancel")
        a11y.button_named(self.cancel_button)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.action_button = QPushButton(action_label)
        a11y.button_named(self.action_button)
        self.action_button.setProperty("primary", True)
        self.action_button.setDefault(True)
        self.action_button.clicked.connect(self._on_action)
        buttons = QHBoxLayout()
        #: Cancel and the action; a dialog with a second action inserts it here.
        self.buttons = buttons
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.action_button)

        self.body = QVBoxLayout()
        self.body.setSpacing(10)
        self.body.addLayout(self.form)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(heading)
        layout.addWidget(self.subtitle)
        layout.addSpacing(4)
        layout.addLayout(self.body)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addSpacing(4)
        layout.addLayout(buttons)

    # ----- building ------------------------------------------------------------------------

    def add_field(self, label: str, widget: QWidget, field: str | None = None) -> QWidget:
        """A form row: `label`, then `widget` with room for its own error underneath.

        `field` is the name the service uses in ValidationError.field for this input. Returns
        the widget that occupies the row (for showing or hiding it).
        """
        if field is None:
            self.form.addRow(caption_for(label, widget), widget)
            return widget
        row, show = add_row(self.form, label, widget)
        self._field_errors[field] = show
        return row

    # ----- what subclasses say -------------------------------------------------------------

    def collect(self) -> object | None:
        """The request to submit, or None after showing what to fix."""
        raise NotImplementedError

    # ----- what the tab calls --------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Start where the person types: the first field (an amount, usually), not Cancel.
        if self.first_input is not None:
            self.first_input.setFocus()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.action_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def finish(self) -> None:
        self.accept()

    def refuse(self, error: BaseException) -> None:
        """Show why the service refused, inline when it names one of this dialog's fields."""
        self.set_busy(False)
        message = message_for(error)
        field = field_of(error)
        if field is not None and field in self._field_errors:
            self._field_errors[field](message)
            self.error.clear_message()
        else:
            self.error.show_message(message)

    def reject(self) -> None:
        """Escape and the close box wait while the action runs, so its answer is seen."""
        if not self._busy:
            super().reject()

    def show_field_error(self, field: str, message: str) -> None:
        """A message next to the named field (or in the dialog's error area if there is none)."""
        show = self._field_errors.get(field)
        if show is None:
            self.error.show_message(message)
        else:
            show(message)

    def clear_errors(self) -> None:
        self.error.clear_message()
        for show in self._field_errors.values():
            show("")

    def _on_action(self) -> None:
        self.error.clear_message()
        request = self.collect()
        if request is None:
            return
        self.set_busy(True)
        self.submitted.emit(request)
