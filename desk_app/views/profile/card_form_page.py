"""The page shown in the Add card dialog: Stripe.js Elements and a channel back to the app.

The card number is typed into Stripe's own field (an iframe from Stripe in production) and sent
by Stripe.js straight to Stripe with ``confirmCardSetup``. The only thing the page hands to the
app, over QWebChannel, is the PaymentMethod id Stripe returns (``pm_...``), or Stripe's error
text. Nothing here ever reads the card field.
"""

from __future__ import annotations

import html
import json

from desk_app.services.cards import AddCardSession

#: The page's origin in production: an https origin of our own (Stripe.js wants https), not
#: Stripe's. In tests the page takes localstripe's origin, where its fake Stripe.js lives.
PRODUCTION_ORIGIN = "https://card-form.front-desk.invalid/"

_STYLE = """
html, body { margin: 0; padding: 0; background: transparent; overflow: hidden; }
body { font: 14px system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2a30; }
#card { background: #ffffff; border: 1px solid #c3ced3; border-radius: 6px; padding: 12px;
        margin: 1px; min-height: 22px; }
#card input { font: inherit; padding: 4px 6px; margin: 2px 4px 2px 0;
              border: 1px solid #d5dde1; border-radius: 4px; }
#card-errors { color: #b42318; margin-top: 8px; min-height: 18px; }
"""

_SCRIPT = """
(function () {
  var channel = null;
  function bridge() { return channel ? channel.objects.cardForm : null; }
  function say(method, value) { var b = bridge(); if (b) { b[method](value); } }
  if (typeof Stripe === "undefined") {
    new QWebChannel(qt.webChannelTransport, function (ch) {
      channel = ch;
      say("failed", "Stripe's card form could not be loaded. Check the internet connection " +
                    "and open it again.");
    });
    return;
  }
  var stripe = Stripe(SETTINGS.publishableKey);
  var card = stripe.elements().create("card", {hidePostalCode: false});
  card.mount("#card");
  card.on("change", function (event) {
    var box = document.getElementById("card-errors");
    box.textContent = event && event.error ? event.error.message : "";
  });
  window.frontDesk = {
    submit: function () {
      stripe.confirmCardSetup(SETTINGS.clientSecret, {payment_method: {card: card}})
        .then(function (result) {
          if (result.error) {
            say("failed", result.error.message || String(result.error));
          } else {
            var pm = result.setupIntent.payment_method;
            say("confirmed", typeof pm === "string" ? pm : pm.id);
          }
        }, function (error) { say("failed", String(error && error.message || error)); });
      return true;
    }
  };
  new QWebChannel(qt.webChannelTransport, function (ch) {
    channel = ch;
    say("ready", "");
  });
})();
"""


def page_origin(session: AddCardSession) -> str:
    """Where the page says it comes from (its base URL)."""
    return f"{session.api_base}/" if session.api_base else PRODUCTION_ORIGIN


def card_form_html(session: AddCardSession) -> str:
    settings = json.dumps(
        {"publishableKey": session.publishable_key, "clientSecret": session.client_secret}
    ).replace("</", "<\\/")
    return f"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_STYLE}</style>
<script src="qrc:///qtwebchannel/qwebchannel.js"></script>
<script src="{html.escape(session.stripe_js_url, quote=True)}"></script>
</head><body>
<div id="card" aria-label="Card details"></div>
<div id="card-errors" role="alert"></div>
<script>var SETTINGS = {settings};{_SCRIPT}</script>
</body></html>"""
