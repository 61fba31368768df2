"""Adding a card in Stripe's own form (localstripe's fake Stripe.js) in a real QWebEngineView.

The test is the patient typing their card into the page: it runs JavaScript in the page to fill
Stripe's field. The app's Python code only ever receives a PaymentMethod id.
"""

from __future__ import annotations

import json

import pytest
import shiboken6
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desk_app.services.cards import CardRow
from desk_app.views.profile.add_card_dialog import AddCardDialog
from tests.gui.cards.conftest import CardDesk
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import click, open_profile, open_with, show_tab
from tests.stripe_fixtures import DECLINED, VISA

pytestmark = pytest.mark.gui

CARDS_TAB = "Cards && charges"

# What the patient's fingers do in Stripe's field (localstripe's stand-in for it).
TYPE_CARD = """(function (card) {
  function put(name, value) {
    var input = document.querySelector('#card input[placeholder="' + name + '"]');
    input.value = value;
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  put('number', card.number); put('exp_month', '12'); put('exp_year', '31');
  put('cvc', '123'); put('postal_code', 'M5V 2T6');
  return true;
})(%s)"""


def type_card(qtbot: QtBot, dialog: AddCardDialog, number: str) -> None:
    typed: list[object] = []
    dialog.page.runJavaScript(TYPE_CARD % json.dumps({"number": number}), 0, typed.append)
    qtbot.waitUntil(lambda: typed == [True], timeout=10_000)


def test_card_typed_into_stripes_form_is_saved_with_only_its_id_reaching_us(
    qtbot: QtBot, card_desk: CardDesk
) -> None:
    ctx = card_desk.ctx
    seen: list[tuple[object, ...]] = []
    finish = card_desk.services.cards.finish_add_card

    def spy(*args: object, **kwargs: object) -> CardRow:
        seen.append(args + tuple(kwargs.values()))
        return finish(*args, **kwargs)  # type: ignore[arg-type]

    card_desk.services.cards.finish_add_card = spy  # type: ignore[method-assign]
    view = open_profile(qtbot, ctx, card_desk.patient_id, "Billing")
    show_tab(view, CARDS_TAB)
    tab = view.cards
    assert tab.cards.rowCount() == 0

    dialog = open_with(qtbot, tab, "Add card…", AddCardDialog)
    confirmed: list[str] = []
    dialog.bridge.card_confirmed.connect(confirmed.append)
    qtbot.waitUntil(lambda: dialog.form_is_ready, timeout=20_000)
    assert dialog.session is not None
    assert dialog.session.stripe_js_url == f"{card_desk.stripe_url}/js.stripe.com/v3/"

    # A card the bank turns down: Stripe's own words are shown, nothing is saved.
    type_card(qtbot, dialog, DECLINED)
    click(qtbot, dialog, "Save card")
    error = dialog.findChild(QLabel, "formError")
    assert error is not None
    qtbot.waitUntil(lambda: error.isVisible() and bool(error.text()), timeout=20_000)
    assert "declined" in error.text().lower()
    assert dialog.isVisible() and seen == []

    # The patient tries another card.
    type_card(qtbot, dialog, VISA)
    click(qtbot, dialog, "Save card")
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(),
                    timeout=20_000)
    qtbot.waitUntil(lambda: tab.cards.rowCount() == 1, timeout=10_000)
    wait_idle(qtbot, ctx)

    card = tab.cards.rows[0]
    assert (card.brand_label, card.last4, card.expiry) == ("Visa", "4242", "12/2031")
    assert tab.cards.index(0, tab.cards.BRAND).data() == "Visa"
    assert tab.cards.index(0, tab.cards.LAST4).data() == "•••• 4242"
    assert tab.cards.index(0, tab.cards.ADDED_BY).data() == "Sam Lee"
    # What crossed from the page into Python: a PaymentMethod id, never the number.
    assert len(confirmed) == 1 and confirmed[0].startswith("pm_")
    assert len(seen) == 1 and confirmed[0] in seen[0]
    assert not any(VISA in str(arg) for arg in seen[0])
    assert tab.banner.text() == "Visa •••• 4242, expires 12/2031 saved on file."
