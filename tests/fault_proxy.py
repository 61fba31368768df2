"""A fault-injecting HTTP proxy on 127.0.0.1, between our Stripe client and localstripe.

It reads one request per client connection and, unless a fault is armed for it, forwards it
(with ``Connection: close``) and relays the answer. Armed faults apply to the next matching
requests (method and path prefix), once each:

- ``DROP_RESPONSE``: forward the request (Stripe acts on it), then close without answering.
- ``STALL``: forward the request, then hold the answer back until the client gives up.
- ``STALL_BEFORE``: hold the request without forwarding it until the client gives up.
- ``RESET_BEFORE``: reset the connection (RST) without forwarding the request.
- ``RESET_AFTER``: forward the request, then reset the connection instead of answering.
- ``RESPOND``: answer with a canned response (a real-Stripe-shaped error, say) unforwarded.

Bounded: at most ``max_connections`` at once, every socket has a timeout, stalls end when the
client hangs up or after ``stall_limit`` seconds, and ``close()`` ends everything.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Fault(Enum):
    DROP_RESPONSE = "drop_response"
    STALL = "stall"
    STALL_BEFORE = "stall_before"
    RESET_BEFORE = "reset_before"
    RESET_AFTER = "reset_after"
    RESPOND = "respond"


@dataclass
class _Rule:
    fault: Fault
    method: str
    path_prefix: str
    times: int
    status: int = 200
    body: bytes = b""


@dataclass
class ProxyEvent:
    method: str
    path: str
    fault: Fault | None
    forwarded: bool


@dataclass
class FaultProxy:
    upstream_host: str
    upstream_port: int
    max_connections: int = 32
    stall_limit: float = 30.0
    io_timeout: float = 15.0
    events: list[ProxyEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self._open: set[socket.socket] = set()
        self._closing = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ----- arming --------------------------------------------------------------------------

    def arm(self, fault: Fault, *, method: str = "POST",
            path_prefix: str = "/v1/payment_intents", times: int = 1,
            status: int = 200, body: Any = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        with self._lock:
            self._rules.append(_Rule(fault, method.upper(), path_prefix, times, status, raw))

    def disarm(self) -> None:
        with self._lock:
            self._rules.clear()

    def _take_rule(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method and path.startswith(rule.path_prefix):
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    # ----- serving ---------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(timeout=self.io_timeout):
                client.close()
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with self._lock:
            self._open.add(client)
        try:
            client.settimeout(self.io_timeout)
            request = _read_request(client)
            if request is None:
                return
            head, body, method, path = request
            rule = self._take_rule(method, path)
            fault = rule.fault if rule else None
            forwarded = fault not in (Fault.STALL_BEFORE, Fault.RESET_BEFORE, Fault.RESPOND)
            self.events.append(ProxyEvent(method, path, fault, forwarded))
            if fault is Fault.RESET_BEFORE:
                _reset(client)
                return
            if fault is Fault.STALL_BEFORE:
                self._wait_for_hangup(client)
                return
            if fault is Fault.RESPOND:
                assert rule is not None
                client.sendall(_response(rule.status, rule.body))
                return
            answer = self._forward(head, body)
            if fault is Fault.DROP_RESPONSE:
                client.shutdown(socket.SHUT_RDWR)
                return
            if fault is Fault.RESET_AFTER:
                _reset(client)
                return
            if fault is Fault.STALL:
                self._wait_for_hangup(client)
                return
            client.sendall(answer)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(client)
            with suppress(OSError):
                client.close()
            self._slots.release()

    def _forward(self, head: bytes, body: bytes) -> bytes:
        lines = head.split(b"\r\n")
        kept = [line for line in lines[1:] if line and not line.lower().startswith(
            (b"connection:", b"keep-alive:"))]
        new_head = b"\r\n".join([lines[0], *kept, b"Connection: close", b"", b""])
        with socket.create_connection((self.upstream_host, self.upstream_port),
                                      timeout=self.io_timeout) as upstream:
            upstream.sendall(new_head + body)
            chunks = []
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    def _wait_for_hangup(self, client: socket.socket) -> None:
        client.settimeout(0.1)
        waited = 0.0
        while waited < self.stall_limit and not self._closing.is_set():
            try:
                if client.recv(1024) == b"":
                    return
            except TimeoutError:
                waited += 0.1
            except OSError:
                return

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    @contextmanager
    def running(self) -> Iterator[FaultProxy]:
        try:
            yield self
        finally:
            self.close()


def _read_request(client: socket.socket) -> tuple[bytes, bytes, str, str] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    method, path, _version = request_line.split(" ", 2)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head, rest[:length], method.upper(), path


def _response(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 402: "Payment Required", 404: "Not Found",
              429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "Status")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
