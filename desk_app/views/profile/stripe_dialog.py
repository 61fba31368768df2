"""The shape of a dialog whose action moves money through Stripe (charge, top-up, refund).

Exactly once: the dialog makes one request id when it opens and sends it with every click, so
a double-click or a retry of the same request is one charge (the service replays the first
outcome). While Stripe is asked, the action is off and a busy line says so; the window stays
responsive. An outcome that is not a success keeps the dialog open with the service's message,
as is. Only after a settled failure (declined, needs authentication) does the next press make
a new request: nothing was charged, so trying again is a new, deliberate charge. An unsettled
outcome (not known yet whether money moved) turns the action off for good.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.busy_row import BusyRow

LINK_NOTE = (
    "Text or email the patient a link to pay their balance: they confirm the payment with "
    "their bank on their own phone, and the desk records it when it is paid."
)


def fit_height_to_width(dialog: QWidget, *, grow_only: bool = False) -> None:
    """Qt sizes a new dialog for its wrapped text at a narrower width than it opens at, which
    leaves a gap above the buttons; and a dialog with a minimum width set is not grown when
    a message appears, which squeezes its rows. Fit the height to the real width."""
    layout = dialog.layout()
    if layout is None:
        return
    width = dialog.width()
    if layout.hasHeightForWidth():
        needed = layout.totalHeightForWidth(width)
    else:
        needed = layout.totalSizeHint().height()
    if needed > dialog.height() or (not grow_only and needed != dialog.height()):
        dialog.resize(width, needed)


def refit_on_layout_change(dialog: QWidget, event: QEvent) -> None:
    """For `event()`: grow the dialog when something shown inside needs more room."""
    if event.type() == QEvent.Type.LayoutRequest and dialog.isVisible():
        fit_height_to_width(dialog, grow_only=True)


class StripeActionDialog(ActionDialog):
    #: "Send a pay-balance link" was pressed (after a charge needed 3-D Secure).
    link_requested = Signal()

    def __init__(
        self,
        title: str,
        action_label: str,
        subtitle: str,
        busy_text: str,
        parent: QWidget | None = None,
        *,
        link_label: str = "",
    ) -> None:
        super().__init__(title, action_label, subtitle, parent)
        self.request_id = uuid.uuid4()
        self._busy_text = busy_text
        self._stopped = False
        self.busy_row = BusyRow()
        self.body.addWidget(self.busy_row)

        # The offer made when the bank wants the patient to authenticate: shown, not faked.
        self.link_row = QWidget()
        self.link_button = QPushButton(link_label or "Send a pay-balance link")
        a11y.button_named(self.link_button)
        self.link_button.clicked.connect(self.link_requested)
        self.link_note = QLabel(LINK_NOTE)
        self.link_note.setObjectName("muted")
        self.link_note.setWordWrap(True)
        row = QHBoxLayout(self.link_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(10)
        row.addWidget(self.link_button, 0)
        row.addWidget(self.link_note, 1)
        self.link_row.hide()
        layout = self.layout()
        assert isinstance(layout, QBoxLayout)
        layout.insertWidget(layout.indexOf(self.error) + 1, self.link_row)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height_to_width(self)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        refit_on_layout_change(self, event)
        return handled

    @property
    def stopped(self) -> bool:
        """True once an unsettled outcome turned the action off."""
        return self._stopped

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        if busy:
            self.link_row.hide()
            self.busy_row.start(self._busy_text)
        else:
            self.busy_row.stop()
        if self._stopped:
            self.action_button.setEnabled(False)

    def show_outcome(self, message: str, *, unsettled: bool, offer_link: bool = False) -> None:
        """A charge or refund that did not succeed: say what happened, as the service put it."""
        self.set_busy(False)
        self.error.show_message(message)
        if unsettled:
            self._stopped = True
            self.action_button.setEnabled(False)
            self.action_button.setToolTip(
                "Not known yet whether Stripe moved the money: nothing more until it is settled."
            )
        else:
            self.request_id = uuid.uuid4()  # settled, nothing moved: a new try is a new request
        self.link_row.setVisible(offer_link)
