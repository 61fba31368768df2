"""From launch to the main window: open the database, first run, sign in, main window.

Each step that touches the database or the disk runs on the TaskRunner's database thread;
the steps are chained by callbacks so the event loop never blocks and no dialog needs exec().

Start-up is quick because the sign-in window comes first: when the workstation has been set
up before (a config file, or --demo), it opens at once, before SQLAlchemy, the models and
the services have even been imported; the database thread imports them, opens and migrates
the database and loads the main window's code while the person types. So this module and
what the sign-in window needs import nothing heavy at the top; the rest is imported where it
is used (docs/PERFORMANCE.md, "Cold start").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QVBoxLayout, QWidget

from desk_app.config import Config, ConfigError, load_config, save_config
from desk_app.logs import setup_logging
from desk_app.services.demo_credentials import DEMO_WORKSTATION
from desk_app.views.error_dialog import ErrorReporter
from desk_app.views.sign_in import SignInDialog
from desk_app.views.tasks import TaskRunner

if TYPE_CHECKING:
    from desk_app.app import AppContext
    from desk_app.services.actor import Actor
    from desk_app.services.clinic_settings import ClinicInfo
    from desk_app.services.registry import Services
    from desk_app.views.first_run import FirstRunDialog
    from desk_app.views.main_window import MainWindow, ProfileFactory

log = logging.getLogger(__name__)

PROGRESS_DELAY_MS = 200
EARLY_OPEN_FALLBACK_MS = 300


@dataclass(frozen=True)
class Opened:
    context: AppContext
    has_clinic: bool


def open_workstation(demo: bool, config: Config | None = None) -> Opened:
    """Runs on the database thread: read the config (unless `config` is the one already
    read), open (and migrate) the database, then load the main window's code, so signing
    in finds it ready."""
    from desk_app.app import open_context

    config = config if config is not None else load_config()
    use_demo = demo or (config is not None and config.demo)
    context = open_context(demo=use_demo, config=config)
    opened = Opened(context, context.has_clinic())
    # Importing defines classes only (no widget is made here): safe off the UI thread.
    import desk_app.views.main_window  # noqa: F401

    return opened


def load_the_rest(services: Services) -> None:
    """Runs on the database thread once the main window shows: the services and the
    profile's code the window did not need to open, so opening the first patient, report
    or settings window does not wait for them to load (docs/PERFORMANCE.md, "Cold start")."""
    services.warm_up()
    import desk_app.views.profile.profile_view  # noqa: F401


@dataclass(frozen=True)
class EarlySignIn:
    """What the sign-in window needs before the database is open; `config` is the file
    as read (None with --demo, which does not read it), handed on to the opening."""

    demo: bool
    workstation: str
    config: Config | None = None


def early_sign_in(demo: bool) -> EarlySignIn | None:
    """The sign-in window can open before the database does: a workstation set up before
    (a config file) or the demo; None on a first run or when the config cannot be read
    (opening reports that)."""
    if demo:
        return EarlySignIn(True, DEMO_WORKSTATION)
    try:
        config = load_config()
    except ConfigError:
        return None
    if config is None:
        return None
    if config.demo:
        return EarlySignIn(True, DEMO_WORKSTATION, config)
    return EarlySignIn(False, config.workstation, config)


def switch_to_demo(current: AppContext) -> Opened:
    """Runs on the database thread: the first-run "Open the demo clinic" choice."""
    current.close()
    save_config(replace(current.config, demo=True))
    return open_workstation(demo=True)


class OpeningDialog(QDialog):
    """A small "Opening the clinic…" window while migrations or the demo build run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Front Desk")
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        label = QLabel("Opening the clinic…")
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        bar.setAccessibleName("Opening the clinic")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(label)
        layout.addWidget(bar)
        self.setMinimumWidth(320)


class Launcher(QObject):
    """Walks through start-up; emits `finished(exit_code)` when the app should quit."""

    finished = Signal(int)
    #: The main window is on screen and the code it did not need has been loaded
    #: (`load_the_rest`): start-up's long-lived objects all exist now.
    settled = Signal()

    def __init__(
        self,
        tasks: TaskRunner,
        *,
        demo: bool,
        screenshot: Path | None = None,
        profile_factory: ProfileFactory | None = None,
        errors: ErrorReporter | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._errors = errors
        self._demo = demo
        self._screenshot = screenshot
        self._profile_factory = profile_factory
        self.context: AppContext | None = None
        # The opened context as the database thread sees it: set there as soon as the
        # database is open, so tasks queued behind the opening can use it before the UI
        # thread has heard that it is open.
        self._opened_context: AppContext | None = None
        self.window: MainWindow | None = None
        self.dialog: QDialog | None = None
        self._progress: OpeningDialog | None = None
        self._done = False

    def start(self) -> None:
        early = early_sign_in(self._demo)
        if early is None:
            self._open(lambda: open_workstation(self._demo))
            return
        # The sign-in window first; the database thread starts once it is drawn (importing
        # the database layer would otherwise compete with drawing it for the interpreter).
        dialog = self._show_sign_in(early.workstation, early.demo, load_clinic_name=False)
        begun = False

        def begin() -> None:
            nonlocal begun
            if not begun:
                begun = True
                self._open(lambda: open_workstation(self._demo, early.config), progress=False)
                dialog.load_clinic_name()  # queued behind the opening
                self._submit_if_headless(dialog)

        dialog.first_painted.connect(begin)
        QTimer.singleShot(EARLY_OPEN_FALLBACK_MS, dialog, begin)  # not drawn (hidden): go on

    def finish(self, code: int) -> None:
        if not self._done:
            self._done = True
            self.finished.emit(code)

    def close_windows(self) -> None:
        for widget in (self._progress, self.dialog, self.window):
            if widget is not None:
                widget.close()
                widget.deleteLater()
        self._progress = self.dialog = self.window = None

    # -- opening ----------------------------------------------------------------------

    def _open(self, how: Callable[[], Opened], *, progress: bool = True) -> None:
        if progress:
            self._progress = OpeningDialog()
            shown = self._progress
            QTimer.singleShot(PROGRESS_DELAY_MS, shown, shown.show)
        self._opened_context = None

        def open_here() -> Opened:
            opened = how()
            self._opened_context = opened.context
            return opened

        self.tasks.db(open_here, self._opened, self._open_failed)

    def _services(self) -> Services:
        """The open clinic's services; for tasks on the database thread only."""
        context = self._opened_context
        if context is None:
            raise RuntimeError("the clinic's database is not open")
        return context.services

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    def _opened(self, opened: Opened) -> None:
        self._close_progress()
        self.context = opened.context
        setup_logging(opened.context.config.log_level)
        sync = opened.context.services.sync
        if sync.configured and not sync.bootstrapped():
            self._close_early_sign_in()
            self._bootstrap(opened.context)
        elif opened.has_clinic:
            if not isinstance(self.dialog, SignInDialog):
                self._sign_in()
        else:
            self._close_early_sign_in()
            self._first_run(opened.context)

    def _close_early_sign_in(self) -> None:
        dialog = self.dialog
        if isinstance(dialog, SignInDialog):
            self._forget_dialog(dialog)
            dialog.finished.disconnect()
            dialog.close()

    def _bootstrap(self, context: AppContext) -> None:
        """A workstation joining a central database copies the clinic first (docs/SYNC.md)."""
        from desk_app.views.bootstrap_dialog import BootstrapDialog

        dialog = BootstrapDialog(context.services.sync)
        self._show_dialog(dialog)

        def done(_result: int) -> None:
            self._forget_dialog(dialog)
            if dialog.result() and context.has_clinic():
                self._sign_in()
            else:
                self.finish(0)

        dialog.finished.connect(done)
        dialog.start()

    def _open_failed(self, error: BaseException) -> None:
        """Nothing works without the database: explain, then quit once that is read."""
        self._close_progress()
        self._close_early_sign_in()
        log.error("could not open the clinic", exc_info=error)
        if self._errors is None:
            self.finish(1)
            return
        dialog = self._errors.show_failure(error)
        dialog.finished.connect(lambda _result: self.finish(1))

    # -- first run ---------------------------------------------------------------------

    def _first_run(self, context: AppContext) -> None:
        from desk_app.views.first_run import FirstRunDialog

        dialog = FirstRunDialog(context.services, self.tasks, context.config)
        self._show_dialog(dialog)
        dialog.finished.connect(lambda _r: self._first_run_done(dialog, context))

    def _first_run_done(self, dialog: FirstRunDialog, context: AppContext) -> None:
        from desk_app.views.first_run import FirstRunChoice

        self._forget_dialog(dialog)
        if dialog.choice is FirstRunChoice.DEMO:
            self.context = None
            self._open(lambda: switch_to_demo(context))
        elif dialog.choice is FirstRunChoice.CREATED and dialog.actor is not None:
            self._signed_in(dialog.actor)  # signed in while setting up: no second password
        else:
            self.finish(0)

    # -- signing in ------------------------------------------------------------------------

    def _sign_in(self, username: str = "") -> None:
        context = self.context
        assert context is not None
        dialog = self._show_sign_in(context.workstation, context.demo, username)
        self._submit_if_headless(dialog)

    def _show_sign_in(
        self, workstation: str, demo: bool, username: str = "", *, load_clinic_name: bool = True
    ) -> SignInDialog:
        dialog = SignInDialog(
            self._services, self.tasks, workstation, demo=demo, load_clinic_name=load_clinic_name
        )
        if username:
            dialog.username.setText(username)
            dialog.password.setFocus()
        dialog.finished.connect(lambda _r: self._sign_in_done(dialog))
        self._show_dialog(dialog)
        return dialog

    def _submit_if_headless(self, dialog: SignInDialog) -> None:
        """Headless (--screenshot): sign in as the demo prefill, nobody is there to click."""
        if self._screenshot is not None:
            dialog.submit()

    def _sign_in_done(self, dialog: SignInDialog) -> None:
        self._forget_dialog(dialog)
        actor = dialog.actor
        if actor is None:
            self.finish(0)
            return
        self._signed_in(actor)

    def _signed_in(self, actor: Actor) -> None:
        context = self.context
        assert context is not None
        clinic = context.services.clinic
        self.tasks.db(
            lambda: clinic.info(actor), lambda info: self._show_main(actor, info), self._open_failed
        )

    # -- the main window -----------------------------------------------------------------

    def _show_main(self, actor: Actor, clinic: ClinicInfo) -> None:
        from desk_app.views.card_reconcile import reconcile_at_startup
        from desk_app.views.main_window import MainWindow
        from desk_app.views.screenshot import ScreenshotTaker
        from desk_app.views.view_context import ViewContext

        context = self.context
        assert context is not None
        ctx = ViewContext(services=context.services, actor=actor, tasks=self.tasks, clinic=clinic)
        window = MainWindow(ctx, self._profile_factory)
        window.signed_out.connect(self._signed_out)
        window.closed.connect(lambda: self.finish(0))
        self.window = window
        window.show()
        reconcile_at_startup(ctx, window)
        services = context.services

        def failed(error: BaseException) -> None:
            log.error("loading the rest of the app's code failed", exc_info=error)
            self.settled.emit()

        self.tasks.db(lambda: load_the_rest(services), lambda _none: self.settled.emit(), failed)
        if self._screenshot is not None:
            taker = ScreenshotTaker(window, self._screenshot)
            taker.done.connect(self.finish)
            taker.start()

    def _signed_out(self) -> None:
        if self.window is not None:
            self.window.deleteLater()
            self.window = None
        self._sign_in()

    # -- helpers ---------------------------------------------------------------------------

    def _show_dialog(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.show()

    def _forget_dialog(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def close_context(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None
