"""Add a card on file through Stripe's own card form (Stripe.js Elements in a QWebEngineView).

1. `begin_add_card` (network pool) makes the patient's Stripe customer and a SetupIntent;
2. the page loads Stripe.js with the account's publishable key; the patient (or the desk, with
   the patient present) types the card into Stripe's field;
3. "Save card" asks the page to `confirmCardSetup`; Stripe.js sends the card to Stripe and the
   page hands back only the PaymentMethod id over QWebChannel;
4. `finish_add_card` (network pool) asks Stripe for the brand, last four and expiry and saves.
Stripe's error text is shown as it comes. The web profile is off the record: nothing the page
does is kept on disk.
"""

from __future__ import annotations

import logging
import uuid

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QLabel, QWidget

from desk_app.services.cards import AddCardSession, CardRow
from desk_app.views import a11y
from desk_app.views.profile.action_dialog import ActionDialog
from desk_app.views.profile.busy_row import BusyRow
from desk_app.views.profile.card_form_page import card_form_html, page_origin
from desk_app.views.profile.failures import message_for
from desk_app.views.profile.stripe_dialog import fit_height_to_width, refit_on_layout_change
from desk_app.views.view_context import ViewContext

log = logging.getLogger(__name__)


class CardFormBridge(QObject):
    """What the page may call: it is ready, a card was set up (its pm_ id), or Stripe refused."""

    form_ready = Signal()
    card_confirmed = Signal(str)
    card_failed = Signal(str)

    @Slot(str)
    def ready(self, _unused: str) -> None:
        self.form_ready.emit()

    @Slot(str)
    def confirmed(self, payment_method_id: str) -> None:
        self.card_confirmed.emit(payment_method_id)

    @Slot(str)
    def failed(self, message: str) -> None:
        self.card_failed.emit(message)


class AddCardDialog(ActionDialog):
    """Emits `card_added(CardRow)` once the card is saved on the patient's file."""

    card_added = Signal(object)

    def __init__(
        self,
        ctx: ViewContext,
        patient_id: uuid.UUID,
        patient_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Add a card on file",
            "Save card",
            f"{patient_name} · typed into Stripe's secure form: only Stripe sees the number",
            parent,
        )
        self.ctx = ctx
        self.patient_id = patient_id
        self.session: AddCardSession | None = None
        self.form_is_ready = False
        self.setMinimumWidth(660)

        # Created before the profile, so it (and its page) is deleted first.
        self.view = QWebEngineView(self)
        a11y.name(self.view, "Card details")
        self.view.setFixedHeight(84)  # Stripe's one-line field and its error line
        self._profile = QWebEngineProfile(self)  # no storage name: off the record
        self.page = QWebEnginePage(self._profile, self.view)
        self.page.setBackgroundColor(Qt.GlobalColor.transparent)  # the dialog's own colour
        self.view.setPage(self.page)
        self.bridge = CardFormBridge(self)
        self.channel = QWebChannel(self.page)
        self.channel.registerObject("cardForm", self.bridge)
        self.page.setWebChannel(self.channel)
        self.bridge.form_ready.connect(self._form_ready)
        self.bridge.card_confirmed.connect(self._card_confirmed)
        self.bridge.card_failed.connect(self._card_failed)
        self.page.loadFinished.connect(self._page_loaded)

        self.busy_row = BusyRow()
        hint = QLabel("Ask the patient to type their card, or type it with them present. A saved "
                      "card can be charged later from the Cards & charges tab.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.body.addWidget(self.view)
        self.body.addWidget(hint)
        self.body.addWidget(self.busy_row)
        self.action_button.setEnabled(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height_to_width(self)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        refit_on_layout_change(self, event)
        return handled

    # ----- opening the form ------------------------------------------------------------------

    def start(self) -> None:
        """Ask Stripe for a SetupIntent, then load the card form."""
        # Nothing is saved yet, so Cancel stays available while Stripe answers.
        self.busy_row.start("Opening Stripe's card form…")
        cards, actor, pid = self.ctx.services.cards, self.ctx.actor, self.patient_id
        self.ctx.tasks.network(
            lambda: cards.begin_add_card(actor, pid),
            self._session_ready,
            self._failed,
            owner=self,
        )

    def _session_ready(self, session: AddCardSession) -> None:
        self.session = session
        self.page.setHtml(card_form_html(session), QUrl(page_origin(session)))

    def _page_loaded(self, ok: bool) -> None:
        if not ok:
            self._stop("Stripe's card form could not be loaded. Check the internet connection "
                       "and open it again.")

    def _form_ready(self) -> None:
        self.form_is_ready = True
        self.busy_row.stop()
        self.action_button.setEnabled(True)
        self.view.setFocus()

    # ----- saving ----------------------------------------------------------------------------

    def _on_action(self) -> None:
        if not self.form_is_ready:
            return
        self.error.clear_message()
        self._working("Checking the card with Stripe…")
        self.page.runJavaScript("window.frontDesk.submit()", 0)

    def _card_confirmed(self, payment_method_id: str) -> None:
        session = self.session
        if session is None or not self._busy_now:
            return
        self.busy_row.start("Saving the card on file…")
        cards, actor, pid = self.ctx.services.cards, self.ctx.actor, self.patient_id
        self.ctx.tasks.network(
            lambda: cards.finish_add_card(
                actor, pid, session.payment_account_id, payment_method_id,
                setup_intent_id=session.setup_intent_id,
            ),
            self._saved,
            self._failed,
            owner=self,
        )

    def _card_failed(self, message: str) -> None:
        self._stop(message)

    def _saved(self, card: CardRow) -> None:
        log.info("card added for patient %s", self.patient_id)
        self.set_busy(False)
        self.card_added.emit(card)
        self.finish()

    def _failed(self, error: BaseException) -> None:
        self._stop(message_for(error))

    # ----- helpers ---------------------------------------------------------------------------

    @property
    def _busy_now(self) -> bool:
        return self.busy_row.running

    def _working(self, text: str) -> None:
        self.set_busy(True)
        self.busy_row.start(text)

    def _stop(self, message: str) -> None:
        self.set_busy(False)
        self.busy_row.stop()
        self.action_button.setEnabled(self.form_is_ready)
        self.error.show_message(message)
