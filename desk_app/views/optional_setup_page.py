"""The last page of setting up a new clinic: the optional steps (views.setup_steps), each
with a button that opens its dialog now, or where to find it later."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desk_app.views.forms import DialogHeader, push_button
from desk_app.views.setup_steps import Opener, OptionalStep, optional_steps
from desk_app.views.view_context import ViewContext


class OptionalSetupPage(QWidget):
    """Emits `finished` when Finish is pressed; `ctx` must be set before a step is opened."""

    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: ViewContext | None = None
        self.header = DialogHeader("Optional set-up")
        self.finish_button = push_button("Finish", primary=True)
        self.finish_button.clicked.connect(self.finished)
        self.step_buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.header)
        for step in optional_steps():
            layout.addWidget(self._step_box(step))
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.finish_button)
        layout.addLayout(row)

    def set_context(self, ctx: ViewContext) -> None:
        self.ctx = ctx
        self.header.set_subtitle(
            f"{ctx.clinic.name} is ready and you are signed in. These can be set up now "
            "or at any time later."
        )

    def _step_box(self, step: OptionalStep) -> QWidget:
        box = QFrame()
        box.setObjectName("setupStep")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        title = QLabel(f"<b>{step.title}</b>")
        title.setContentsMargins(4, 0, 4, 0)  # level with the muted lines under it
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(title)
        words.addWidget(muted(step.description))
        row = QHBoxLayout(box)
        row.setContentsMargins(12, 10, 12, 10)
        row.addLayout(words, 1)
        if step.open is not None:
            opener = step.open
            button = push_button(step.button)
            button.clicked.connect(lambda: self.open_step(opener))
            self.step_buttons[step.key] = button
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
            words.addWidget(muted(f"Later: {step.later}."))
        else:
            words.addWidget(muted(f"Set this up later in {step.later}."))
        return box

    def open_step(self, opener: Opener) -> None:
        assert self.ctx is not None, "set_context first: the steps act as the new user"
        dialog = opener(self.ctx, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


def muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("muted")
    label.setWordWrap(True)
    label.setContentsMargins(4, 0, 4, 0)
    return label
