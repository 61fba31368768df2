"""Running service calls off the UI thread and handing results back by signal.

One single-thread executor owns every database call (a SQLAlchemy Session is not thread-safe
and SQLite wants one writer); a small pool takes network calls. Results come back to the UI
thread through a queued signal, and are dropped if the widget that asked has been deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")
SuccessFn = Callable[[Any], None]
FailureFn = Callable[[BaseException], None]


@dataclass
class _Completion:
    future: Future[Any]
    on_success: SuccessFn | None
    on_failure: FailureFn | None
    owner: QObject | None


class TaskRunner(QObject):
    """Submit work with `db(...)` or `network(...)`; callbacks run on the UI thread."""

    busy_changed = Signal(bool)
    _completed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        self._net = ThreadPoolExecutor(max_workers=4, thread_name_prefix="network")
        self._pending = 0
        # Queued even when the work finished before the callback was attached, so a result is
        # always delivered later from the event loop, never inside the call that submitted it.
        self._completed.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        #: Called for failures that have no handler of their own (set by the main window).
        self.default_failure: FailureFn = _log_failure

    @property
    def idle(self) -> bool:
        return self._pending == 0

    def db(
        self,
        fn: Callable[[], T],
        on_success: Callable[[T], None] | None = None,
        on_failure: FailureFn | None = None,
        owner: QObject | None = None,
    ) -> Future[T]:
        """Run `fn` on the database thread."""
        return self._submit(self._db, fn, on_success, on_failure, owner)

    def network(
        self,
        fn: Callable[[], T],
        on_success: Callable[[T], None] | None = None,
        on_failure: FailureFn | None = None,
        owner: QObject | None = None,
    ) -> Future[T]:
        """Run `fn` on the network pool (Stripe, SMTP, SMS, the central database)."""
        return self._submit(self._net, fn, on_success, on_failure, owner)

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        fn: Callable[[], T],
        on_success: Callable[[T], None] | None,
        on_failure: FailureFn | None,
        owner: QObject | None,
    ) -> Future[T]:
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        future = pool.submit(fn)
        completion = _Completion(future, on_success, on_failure, owner)
        future.add_done_callback(lambda _f: self._completed.emit(completion))
        return future

    def _deliver(self, completion: _Completion) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)
        owner, on_success, on_failure = (
            completion.owner,
            completion.on_success,
            completion.on_failure,
        )
        # The future keeps its done-callback (and so this completion) alive in a cycle; drop
        # the references to widgets and callbacks so that cycle holds nothing of Qt's.
        completion.owner = completion.on_success = completion.on_failure = None
        if owner is not None and not shiboken6.isValid(owner):
            return
        error = completion.future.exception()
        if error is None:
            if on_success is not None:
                on_success(completion.future.result())
            return
        (on_failure or self.default_failure)(error)

    def shutdown(self) -> None:
        """Finish queued work and stop the threads (called when the window closes)."""
        self._db.shutdown(wait=True)
        self._net.shutdown(wait=True, cancel_futures=True)


def _log_failure(error: BaseException) -> None:
    log.error("background task failed", exc_info=error)
