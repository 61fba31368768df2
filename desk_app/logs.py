"""Logging and crash handling (no Qt here: the Qt layer passes in a ``show_error`` callback).

Start-up order in the app::

    log_file = logs.setup_logging(config.log_level)
    previous_crash = logs.last_crash_report()      # text, or None
    logs.install_crash_handlers(show_error_dialog)  # show_error_dialog marshals to the UI thread

- ``front-desk.log`` in :func:`desk_app.paths.log_dir` (rotating, 1 MiB x 5) gets everything at
  the configured level; stderr gets WARNING and above.
- An uncaught exception in the main thread or any other thread is logged with its traceback
  at ERROR on the logger ``desk_app.crash``, then ``show_error(title, text)`` is called.
- A hard crash (segfault in a native library, for example) is written by ``faulthandler``
  to ``crash.log``; the next start reads it with :func:`last_crash_report`.

SQL statements are never logged (``sqlalchemy`` is held at WARNING): their parameters can
hold patient data. Every line written is scrubbed of card numbers, secrets and contact
details (``desk_app.log_scrubbing``).
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from desk_app import paths
from desk_app.log_scrubbing import ScrubbingFormatter

LOG_FILE_NAME = "front-desk.log"
LOG_FORMAT = "%(asctime)s %(levelname)-8s [%(threadName)s] %(name)s: %(message)s"
MAX_LOG_BYTES = 1024 * 1024
LOG_BACKUP_COUNT = 5

CRASH_LOGGER = "desk_app.crash"
CRASH_TITLE = "Front Desk hit an unexpected error"

ShowError = Callable[[str, str], None]

_HANDLER_MARK = "_desk_app_handler"

# Module state for the crash handlers, so they can be installed idempotently and removed.
_crash_file: IO[str] | None = None
_previous_excepthook: (
    Callable[[type[BaseException], BaseException, TracebackType | None], object] | None
) = None
_previous_threading_excepthook: Callable[[threading.ExceptHookArgs], object] | None = None
_faulthandler_was_enabled = False
_show_error: ShowError | None = None


def _level_number(level: str) -> int:
    number = logging.getLevelName(level.strip().upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    return number


def _our_handlers(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]


def setup_logging(level: str = "INFO") -> Path:
    """Log to ``front-desk.log`` (rotating) at ``level`` and to stderr at WARNING+.

    Idempotent: calling it again changes the level (and the file, if the log folder moved)
    without adding handlers twice. Returns the log file's path.
    """
    number = _level_number(level)
    log_file = paths.log_dir() / LOG_FILE_NAME
    root = logging.getLogger()
    formatter = ScrubbingFormatter(LOG_FORMAT)  # card data, secrets, contact details out

    file_handler: logging.handlers.RotatingFileHandler | None = None
    stderr_handler: logging.Handler | None = None
    for handler in _our_handlers(root):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            if Path(handler.baseFilename) == log_file and file_handler is None:
                file_handler = handler
                continue
        elif stderr_handler is None:
            stderr_handler = handler
            continue
        root.removeHandler(handler)
        handler.close()

    if file_handler is None:
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUP_COUNT, encoding="utf-8"
        )
        setattr(file_handler, _HANDLER_MARK, True)
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    if stderr_handler is None:
        stderr_handler = logging.StreamHandler(sys.stderr)
        setattr(stderr_handler, _HANDLER_MARK, True)
        stderr_handler.setFormatter(formatter)
        stderr_handler.setLevel(logging.WARNING)
        root.addHandler(stderr_handler)

    file_handler.setLevel(number)
    root.setLevel(number)
    # SQL and its bound parameters may contain patient data: never log them.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    return log_file


def reset_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` added (for tests and shutdown)."""
    root = logging.getLogger()
    for handler in _our_handlers(root):
        root.removeHandler(handler)
        handler.close()


def _log_file_hint() -> str:
    for handler in _our_handlers(logging.getLogger()):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return f"\n\nThe details were written to the log file:\n{handler.baseFilename}"
    return ""


def _report(
    exc_type: type[BaseException],
    exc_value: BaseException,
    exc_tb: TracebackType | None,
    where: str,
) -> None:
    logging.getLogger(CRASH_LOGGER).error(
        "Uncaught exception in %s", where, exc_info=(exc_type, exc_value, exc_tb)
    )
    show_error = _show_error
    if show_error is None:
        return
    summary = f"{exc_type.__name__}: {exc_value}" if str(exc_value) else exc_type.__name__
    text = f"Something went wrong and this action did not finish.\n\n{summary}{_log_file_hint()}"
    try:
        show_error(CRASH_TITLE, text)
    except Exception:
        # Never let the error dialog itself take the app down (or recurse into us).
        logging.getLogger(CRASH_LOGGER).exception("The error callback failed")


def _excepthook(
    exc_type: type[BaseException], exc_value: BaseException, exc_tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, exc_tb)
        return
    _report(exc_type, exc_value, exc_tb, "the main thread")


def _threading_excepthook(args: threading.ExceptHookArgs) -> None:
    if issubclass(args.exc_type, KeyboardInterrupt):
        threading.__excepthook__(args)
        return
    if issubclass(args.exc_type, SystemExit) or args.exc_value is None:
        return  # what the default hook does: a thread calling sys.exit() is not a crash
    name = args.thread.name if args.thread is not None else "an unknown thread"
    _report(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name!r}")


def install_crash_handlers(show_error: ShowError | None) -> None:
    """Log uncaught exceptions (any thread) and call ``show_error(title, text)`` if given.

    Also turns on ``faulthandler`` writing to :func:`desk_app.paths.crash_log_file`.
    Calling it again replaces the callback (and moves the crash log if the folder moved).
    """
    global _crash_file, _previous_excepthook, _previous_threading_excepthook
    global _faulthandler_was_enabled, _show_error

    _show_error = show_error
    if sys.excepthook is not _excepthook:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
    if threading.excepthook is not _threading_excepthook:
        _previous_threading_excepthook = threading.excepthook
        threading.excepthook = _threading_excepthook

    crash_file = paths.crash_log_file()
    if _crash_file is not None and Path(_crash_file.name) == crash_file:
        return
    old_file = _crash_file
    if old_file is None:
        _faulthandler_was_enabled = faulthandler.is_enabled()
    # Append mode: last_crash_report() may truncate the file while we hold it open.
    # The file object must stay alive as long as faulthandler uses its descriptor.
    _crash_file = open(crash_file, "a", encoding="utf-8")  # noqa: SIM115
    faulthandler.enable(file=_crash_file, all_threads=True)
    if old_file is not None:
        old_file.close()


def uninstall_crash_handlers() -> None:
    """Undo :func:`install_crash_handlers` (restore the previous hooks; for tests)."""
    global _crash_file, _previous_excepthook, _previous_threading_excepthook, _show_error

    if sys.excepthook is _excepthook:
        sys.excepthook = _previous_excepthook or sys.__excepthook__
    if threading.excepthook is _threading_excepthook:
        threading.excepthook = _previous_threading_excepthook or threading.__excepthook__
    _previous_excepthook = None
    _previous_threading_excepthook = None
    _show_error = None
    if _crash_file is not None:
        faulthandler.disable()
        if _faulthandler_was_enabled and sys.__stderr__ is not None:
            faulthandler.enable(file=sys.__stderr__, all_threads=True)
        _crash_file.close()
        _crash_file = None


def last_crash_report() -> str | None:
    """The crash log left by a previous run (``None`` if empty), and empty it.

    Call it at start-up to tell the user "the last session ended unexpectedly".
    """
    crash_file = paths.crash_log_file()
    try:
        with open(crash_file, "r+", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
            if not text.strip():
                return None
            handle.seek(0)
            handle.truncate()
    except FileNotFoundError:
        return None
    return text
