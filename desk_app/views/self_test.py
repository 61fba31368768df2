"""`desk-app --self-test`: proof that an installed or built app works, with no display.

It starts offscreen, builds the demo clinic in a fresh temporary folder (nothing of the
clinic's is read or written), signs in, renders the main window with a patient open, builds a
payment receipt PDF and draws its first page with QtPdf (the printing path), then loads a page
in QtWebEngine (the card form's engine, the part a bundle most often lacks). Each step prints a
line; the exit code is 0 only if all of them passed, and a failure says which step and why.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSize, QTimer, Signal
from PySide6.QtGui import QImage

from desk_app import __version__, paths
from desk_app.services.documents.pdf_document import PdfDocument

#: A bundle missing a piece fails fast instead of hanging CI.
TIMEOUT_MS = 180_000
RECEIPT_RENDER_SIZE = QSize(612, 792)


class SelfTestFailed(RuntimeError):
    pass


class SelfTest(QObject):
    """Runs the steps in order on the event loop; emits `done(exit_code)` once."""

    done = Signal(int)

    def __init__(self, home: Path, out: TextIO) -> None:
        super().__init__()
        from desk_app.views.startup import Launcher
        from desk_app.views.tasks import TaskRunner

        self.out = out
        self.home = home
        self.png = home / "main-window.png"
        self.tasks = TaskRunner()
        self.tasks.default_failure = self.fail
        self.launcher = Launcher(self.tasks, demo=True, screenshot=self.png)
        self.launcher.finished.connect(self._main_window_done)
        self._finished = False
        self._web_view: QObject | None = None
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(
            lambda: self.fail(SelfTestFailed(f"timed out after {TIMEOUT_MS // 1000} s"))
        )

    def start(self) -> None:
        self.say(f"Front Desk {__version__} self-test, in {self.home}")
        self._deadline.start(TIMEOUT_MS)
        self.launcher.start()

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def fail(self, error: BaseException) -> None:
        self.say(f"FAILED: {type(error).__name__}: {error}")
        self._finish(1)

    def _finish(self, code: int) -> None:
        if not self._finished:
            self._finished = True
            self._deadline.stop()
            self.done.emit(code)

    def close(self) -> None:
        # The page must be gone before QtWebEngine's profile is released at exit (else Qt
        # warns and may crash): the view has no parent, so dropping it deletes it now.
        self._web_view = None
        self.launcher.close_windows()
        self.tasks.shutdown()
        self.launcher.close_context()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    # -- the steps ---------------------------------------------------------------------

    def _main_window_done(self, code: int) -> None:
        window = self.launcher.window
        context = self.launcher.context
        if code != 0 or window is None or context is None:
            self.fail(SelfTestFailed("the demo clinic did not open to the main window"))
            return
        image = QImage(str(self.png))
        if image.isNull() or image.width() < 400:
            self.fail(SelfTestFailed(f"the main window was not rendered to {self.png}"))
            return
        revision = context.services.db.schema_revision()
        self.say(f"ok: demo database opened (schema {revision}), signed in as "
                 f"{window.ctx.actor.name}")
        self.say(f"ok: main window rendered with a patient open ({image.width()}x"
                 f"{image.height()})")
        services, actor = context.services, window.ctx.actor
        from desk_app.services.self_check import first_payment_receipt

        self.tasks.db(lambda: first_payment_receipt(services, actor), self._receipt_built,
                      self.fail)

    def _receipt_built(self, document: PdfDocument) -> None:
        from desk_app.views.documents.pdf_printing import LoadedPdf

        if not document.data.startswith(b"%PDF-"):
            self.fail(SelfTestFailed("the receipt is not a PDF"))
            return
        pdf = LoadedPdf(document.data)
        try:
            page = pdf.document.render(0, RECEIPT_RENDER_SIZE)
            pages = pdf.page_count
        finally:
            pdf.close()
        if page.isNull() or _blank(page):
            self.fail(SelfTestFailed("the receipt's first page rendered blank"))
            return
        self.say(f"ok: receipt {document.reference} built ({len(document.data):,} bytes, "
                 f"{pages} page) and drawn by QtPdf")
        self._check_web_engine()

    def _check_web_engine(self) -> None:
        from PySide6.QtWebEngineWidgets import QWebEngineView

        view = QWebEngineView()
        self._web_view = view
        view.resize(320, 200)

        def loaded(ok: bool) -> None:
            if not ok:
                self.fail(SelfTestFailed("QtWebEngine could not load a page"))
                return
            self.say("ok: QtWebEngine (the card form's engine) loaded a page")
            self.say("Self-test passed.")
            self._finish(0)

        view.loadFinished.connect(loaded)
        view.setHtml("<!doctype html><title>self-test</title><p>Front Desk</p>")


def _blank(image: QImage) -> bool:
    """True when every sampled pixel has the same colour (nothing was drawn)."""
    first = image.pixel(0, 0)
    step = max(1, min(image.width(), image.height()) // 40)
    return all(
        image.pixel(x, y) == first
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    )


def run_self_test(out: TextIO | None = None) -> int:
    """The whole self-test in this process; returns the exit code."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="front-desk-self-test-") as folder:
        home = Path(folder)
        paths.set_base_dir(home)
        try:
            return _run(home, out)
        except Exception as exc:  # an import or start-up failure: say so, exit non-zero
            print(f"FAILED: {type(exc).__name__}: {exc}", file=out, flush=True)
            return 1
        finally:
            paths.set_base_dir(None)


def _run(home: Path, out: TextIO) -> int:
    from desk_app import logs
    from desk_app.views.application import application, prepare_web_engine
    from desk_app.views.theme import apply_theme

    prepare_web_engine()
    app = application()
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)
    logs.setup_logging("INFO")
    test = SelfTest(home, out)
    codes: list[int] = []

    def done(code: int) -> None:
        codes.append(code)
        app.exit(code)

    test.done.connect(done)
    QTimer.singleShot(0, test.start)
    try:
        app.exec()
    finally:
        test.close()
        app.processEvents()
    return codes[0] if codes else 1
