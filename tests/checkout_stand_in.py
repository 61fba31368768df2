"""Stripe Checkout Sessions for tests: an HTTP-level stand-in in front of localstripe.

localstripe has no Checkout. This server on 127.0.0.1 answers the Checkout endpoints itself,
with the object shapes of Stripe's API reference, and forwards every other request to
localstripe unchanged, so our real stripe SDK client talks to one base URL as it would to
Stripe:

- ``POST /v1/checkout/sessions`` (payment and setup modes; ``expires_at`` must be 30 minutes
  to 24 hours ahead of the stand-in's clock; Idempotency-Key honoured as Stripe does),
  ``GET /v1/checkout/sessions/{id}``, ``GET /v1/checkout/sessions`` (customer, status,
  payment_intent, limit), ``POST /v1/checkout/sessions/{id}/expire`` (only open sessions),
  ``GET /v1/checkout/sessions/{id}/line_items``.
- ``POST /v1/prices`` / ``GET /v1/prices/{id}``: Prices with ``custom_unit_amount`` ("pay
  what you want"), which a session's line item may name.
- A session past its ``expires_at`` (by the injected clock) reads as ``expired``.
- ``realistic_urls = True`` makes session URLs like real Stripe's: a ``cs_test_a1…`` id of 66
  characters and a ``#fid…`` fragment, about 350 characters in all (texts need a short link).
- ``invoice_creation[enabled]`` (payment mode only, as Stripe documents) is reflected in the
  session's ``invoice_creation``; ``invoice`` stays null until the session completes.

A test "pays" a session with ``pay(session_id, card=...)``: like the hosted page, it makes a
real PaymentMethod at localstripe from a test card number, attaches it to the session's
customer when ``setup_future_usage`` asks, and confirms a real PaymentIntent for the amount
(in setup mode: confirms the session's SetupIntent). ``pay(..., wallet="apple_pay")`` pays
the same way, and from then on the PaymentMethod reads back with ``card.wallet`` set, as
Apple Pay and Google Pay cards do at Stripe.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import stripe

from desk_app.services.clock import Clock

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
_KEY = "sk_test_stand_in"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's bracketed form encoding (``a[b][0][c]=v``) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "[]":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


class StripeRequestError(Exception):
    def __init__(self, status: int, message: str, *, param: str = "",
                 code: str = "", kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, "param": param or None,
                               "code": code or None}}


class CheckoutStandIn:
    def __init__(self, upstream: str, clock: Clock) -> None:
        self.upstream = upstream.rstrip("/")
        self.clock = clock
        self.sessions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.wallets: dict[str, str] = {}  # PaymentMethod id -> wallet type
        self.requests: list[tuple[str, str]] = []
        self.realistic_urls = False
        self._idempotent: dict[str, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._http = requests.Session()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stand_in._handle(self, "GET")

            def do_POST(self) -> None:
                stand_in._handle(self, "POST")

            def do_DELETE(self) -> None:
                stand_in._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="checkout-stand-in")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    # ----- what a test does on the hosted page ------------------------------------------------

    def pay(self, session_id: str, *, card: str = "4242424242424242",
            wallet: str | None = None, amount: int | None = None) -> dict[str, Any]:
        """Pay (or in setup mode, set up a card for) an open session, as the patient would."""
        with self._lock:
            session = self._current(session_id)
            if session["status"] != "open":
                raise StripeRequestError(400, f"This Checkout Session is {session['status']}.")
        client = stripe.StripeClient(_KEY, base_addresses={"api": self.upstream},
                                     max_network_retries=0)
        pm = client.v1.payment_methods.create({"type": "card", "card": {
            "number": card, "exp_month": 12, "exp_year": 2031, "cvc": "123"}})
        if wallet:
            self.wallets[str(pm.id)] = wallet
        customer = session.get("customer")
        if session["mode"] == "setup":
            client.v1.setup_intents.confirm(session["setup_intent"], {"payment_method": pm.id})
            with self._lock:
                session.update(status="complete")
            return dict(session)
        intent_data = session["_payment_intent_data"]
        total = session["amount_total"]
        custom = session.get("_custom")
        if custom is not None:
            total = amount if amount is not None else custom.get("preset") or 0
            low, high = int(custom.get("minimum") or 0), int(custom.get("maximum") or 10**8)
            if not low <= total <= high:
                raise StripeRequestError(400, f"The amount must be {low} to {high}.")
        if customer and intent_data.get("setup_future_usage"):
            client.v1.payment_methods.attach(pm.id, {"customer": customer})
        params: dict[str, Any] = {
            "amount": total, "currency": session["currency"], "payment_method": pm.id,
            "confirm": True, "metadata": intent_data.get("metadata") or {}}
        if customer:
            params["customer"] = customer
        intent = client.v1.payment_intents.create(params)  # type: ignore[arg-type]
        if intent.status != "succeeded":
            raise StripeRequestError(402, f"The payment did not go through ({intent.status}).")
        with self._lock:
            session.update(status="complete", payment_status="paid",
                           payment_intent=str(intent.id), amount_total=total,
                           amount_subtotal=total)
            return dict(session)

    def expire_now(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id]["status"] = "expired"

    # ----- HTTP --------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        path = split.path
        with self._lock:
            self.requests.append((method, path))
        route = self._route(method, path)
        try:
            if route is None:
                status, body, headers = self._forward(handler, method, raw)
                self._reply(handler, status, body, headers)
                return
            params = decode_form(raw.decode() if method == "POST" else split.query)
            key = handler.headers.get("Idempotency-Key")
            with self._lock:
                if method == "POST" and key:
                    seen = self._idempotent.get(key)
                    if seen is not None:
                        if seen[0] != raw.decode():
                            raise StripeRequestError(
                                400, "Keys for idempotent requests can only be used with the "
                                "same parameters they were first used with.",
                                kind="idempotency_error")
                        self._json(handler, 200, seen[1])
                        return
                answer = route(params)
                if method == "POST" and key:
                    self._idempotent[key] = (raw.decode(), answer)
            self._json(handler, 200, answer)
        except StripeRequestError as exc:
            self._json(handler, exc.status, exc.body)

    def _route(self, method: str, path: str) -> Callable[[dict[str, Any]], Any] | None:
        parts = path.strip("/").split("/")
        if parts[:3] == ["v1", "checkout", "sessions"]:
            rest = parts[3:]
            if method == "POST" and not rest:
                return self._create_session
            if method == "GET" and not rest:
                return self._list_sessions
            if method == "GET" and len(rest) == 1:
                return lambda _p: self._public(self._current(rest[0]))
            if method == "POST" and len(rest) == 2 and rest[1] == "expire":
                return lambda _p: self._expire(rest[0])
            if method == "GET" and len(rest) == 2 and rest[1] == "line_items":
                return lambda _p: self._list(f"/v1/checkout/sessions/{rest[0]}/line_items",
                                             self._line_items_of(rest[0]))
        if parts[:2] == ["v1", "prices"]:
            if method == "POST" and len(parts) == 2:
                return self._create_price
            if method == "GET" and len(parts) == 3:
                return lambda _p: self._public(self._price(parts[2]))
        return None

    def _forward(self, handler: BaseHTTPRequestHandler, method: str,
                 raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        answer = self._http.request(method, self.upstream + handler.path, data=raw or None,
                                    headers=headers, timeout=30)
        body = answer.content
        path = urlsplit(handler.path).path
        if answer.ok and path.startswith("/v1/payment_methods") and self.wallets:
            data = answer.json()
            for pm in data.get("data") or [data]:
                wallet = self.wallets.get(str(pm.get("id")))
                if wallet and isinstance(pm.get("card"), dict):
                    pm["card"]["wallet"] = {"type": wallet, wallet: {}}
            body = json.dumps(data).encode()
        return answer.status_code, body, {"Content-Type": answer.headers.get(
            "Content-Type", "application/json")}

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes,
               headers: dict[str, str]) -> None:
        handler.send_response(status)
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _json(self, handler: BaseHTTPRequestHandler, status: int, data: Any) -> None:
        self._reply(handler, status, json.dumps(data).encode(),
                    {"Content-Type": "application/json", "Request-Id": "req_standin"})

    # ----- the Checkout Session object --------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _create_session(self, p: dict[str, Any]) -> dict[str, Any]:
        mode = p.get("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeRequestError(400, "Missing required param: mode.", param="mode")
        if mode == "subscription":
            raise StripeRequestError(400, "The stand-in does not do subscriptions.")
        if not p.get("success_url"):
            raise StripeRequestError(400, "Missing required param: success_url.",
                                     param="success_url")
        now = self._now()
        expires_at = int(p.get("expires_at") or now + MAX_EXPIRY)
        if not now + MIN_EXPIRY <= expires_at <= now + MAX_EXPIRY:
            raise StripeRequestError(
                400, "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.", param="expires_at")
        session_id = (f"cs_test_a1{_alnum(56)}" if self.realistic_urls
                      else f"cs_test_{secrets.token_hex(12)}")
        invoice_creation = p.get("invoice_creation")
        if invoice_creation is not None and mode != "payment":
            raise StripeRequestError(400, "invoice_creation can only be used in payment mode.",
                                     param="invoice_creation")
        currency = (p.get("currency") or "").lower() or None
        items: list[dict[str, Any]] = []
        custom: dict[str, Any] | None = None
        if mode == "payment":
            lines = p.get("line_items") or []
            if not lines:
                raise StripeRequestError(400, "Missing required param: line_items.",
                                         param="line_items")
            for n, line in enumerate(lines):
                qty = int(line.get("quantity") or 1)
                if "price" in line:
                    price = self._price(line["price"])
                    custom = price.get("custom_unit_amount")
                    unit = int(price.get("unit_amount") or (custom or {}).get("preset") or 0)
                    name, line_currency = price["_name"], price["currency"]
                else:
                    data = line.get("price_data") or {}
                    if "unit_amount" not in data or "currency" not in data:
                        raise StripeRequestError(
                            400, "Missing required param: line_items[0][price_data].",
                            param=f"line_items[{n}][price_data]")
                    unit = int(data["unit_amount"])
                    name = (data.get("product_data") or {}).get("name") or ""
                    line_currency = data["currency"].lower()
                currency = currency or line_currency
                items.append({"id": f"li_{secrets.token_hex(8)}", "object": "item",
                              "amount_subtotal": unit * qty, "amount_total": unit * qty,
                              "currency": line_currency, "description": name,
                              "quantity": qty})
            if custom is not None and len(lines) > 1:
                raise StripeRequestError(400, "A price with custom_unit_amount must be the "
                                         "only line item.", param="line_items")
        total = sum(i["amount_total"] for i in items)
        setup_intent = None
        if mode == "setup":
            client = stripe.StripeClient(_KEY, base_addresses={"api": self.upstream},
                                         max_network_retries=0)
            si_params: dict[str, Any] = {"usage": "off_session"}
            if p.get("customer"):
                si_params["customer"] = p["customer"]
            setup_intent = str(client.v1.setup_intents.create(si_params).id)  # type: ignore[arg-type]
        session: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total if mode == "payment" else None,
            "amount_total": total if mode == "payment" else None,
            "cancel_url": p.get("cancel_url"),
            "client_reference_id": p.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer": p.get("customer"),
            "customer_email": p.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "metadata": p.get("metadata") or {},
            "mode": mode,
            "payment_intent": None,
            "payment_method_types": p.get("payment_method_types") or ["card"],
            "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
            "setup_intent": setup_intent,
            "status": "open",
            "success_url": p["success_url"],
            "ui_mode": "hosted",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}"
                   + (f"#fidkdWxOYHwnPyd1blpxYHZxWjA0{_alnum(221)}" if self.realistic_urls
                      else ""),
            "invoice": None,
            "invoice_creation": None if mode != "payment" else {
                "enabled": str((invoice_creation or {}).get("enabled")).lower() == "true",
                "invoice_data": {"account_tax_ids": None, "custom_fields": None,
                                 "description": None, "footer": None, "issuer": None,
                                 "metadata": {}, "rendering_options": None}},
            "_payment_intent_data": p.get("payment_intent_data") or {},
            "_custom": custom,
        }
        self.sessions[session_id] = session
        self.line_items[session_id] = items
        return self._public(session)

    def _current(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeRequestError(404, f"No such checkout.session: '{session_id}'",
                                     param="session", code="resource_missing")
        if session["status"] == "open" and self._now() >= session["expires_at"]:
            session["status"] = "expired"
        return session

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def _expire(self, session_id: str) -> dict[str, Any]:
        session = self._current(session_id)
        if session["status"] != "open":
            raise StripeRequestError(
                400, "Only Checkout Sessions with a status of `open` can be expired.",
                param="session")
        session["status"] = "expired"
        return self._public(session)

    def _list_sessions(self, p: dict[str, Any]) -> dict[str, Any]:
        found = [self._current(sid) for sid in list(self.sessions)]
        for name in ("customer", "status", "payment_intent"):
            if p.get(name):
                found = [s for s in found if s.get(name) == p[name]]
        found.sort(key=lambda s: s["created"], reverse=True)
        limit = int(p.get("limit") or 10)
        return self._list("/v1/checkout/sessions", [self._public(s) for s in found[:limit]],
                          has_more=len(found) > limit)

    def _line_items_of(self, session_id: str) -> list[dict[str, Any]]:
        self._current(session_id)
        return self.line_items[session_id]

    @staticmethod
    def _list(url: str, data: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def _create_price(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("currency"):
            raise StripeRequestError(400, "Missing required param: currency.", param="currency")
        custom = p.get("custom_unit_amount")
        if custom is not None:
            custom = {k: (int(v) if k != "enabled" else v == "true") for k, v in custom.items()}
        elif "unit_amount" not in p:
            raise StripeRequestError(400, "Missing required param: unit_amount.",
                                     param="unit_amount")
        price_id = f"price_{secrets.token_hex(10)}"
        price = {
            "id": price_id, "object": "price", "active": True, "created": int(time.time()),
            "currency": p["currency"].lower(), "custom_unit_amount": custom,
            "unit_amount": int(p["unit_amount"]) if "unit_amount" in p else None,
            "product": f"prod_{secrets.token_hex(8)}", "type": "one_time", "livemode": False,
            "_name": (p.get("product_data") or {}).get("name") or "",
        }
        self.prices[price_id] = price
        return self._public(price)

    def _price(self, price_id: str) -> dict[str, Any]:
        price = self.prices.get(price_id)
        if price is None:
            raise StripeRequestError(404, f"No such price: '{price_id}'", param="price",
                                     code="resource_missing")
        return price


def _alnum(length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
