"""localstripe (a fake Stripe) in a subprocess of the test session, on 127.0.0.1 only.

localstripe's own launcher listens on all interfaces and writes /tmp/localstripe.pickle after
every change (parallel runs would share it). This module is also the small script we start it
with instead: it turns the pickle off, binds 127.0.0.1 on a free port, prints the port and
serves. ``LocalStripe`` starts and stops it; ``clear()`` empties its state between tests.

    python tests/stripe_server.py     # prints "PORT <n>", then serves until killed
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT = 15.0


def _serve() -> None:  # runs in the subprocess
    import localstripe.resources as resources
    from aiohttp import web

    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    from localstripe.server import app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


class LocalStripeError(RuntimeError):
    pass


class LocalStripe:
    """A running localstripe: ``url`` is its API base; Stripe.js is at url/js.stripe.com/v3/."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        # Its stderr, shown if it fails to start; closed by stop().
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115

    def start(self) -> LocalStripe:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("PORT ") or self.proc.poll() is not None:
                break
        if not line.startswith("PORT "):
            self.stop()
            self._log.seek(0)
            raise LocalStripeError(f"localstripe did not start (got {line!r}):\n"
                                   f"{self._log.read()[-2000:]}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def clear(self) -> None:
        """Forget every customer, card, charge and refund (DELETE /_config/data)."""
        request = urllib.request.Request(f"{self.url}/_config/data", method="DELETE")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        self._log.close()


if __name__ == "__main__":
    _serve()
