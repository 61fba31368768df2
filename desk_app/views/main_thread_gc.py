"""Python's cyclic garbage collector, run on the UI thread only.

The collector normally runs on whichever thread happens to allocate when a threshold trips.
If that is the database thread and a collected cycle held the last reference to a Qt widget
(TaskRunner completions hold callbacks, and so widgets, in a future <-> callback cycle), the
widget is destroyed off the UI thread and Qt crashes. So automatic collection is switched off
and the UI thread collects on a timer, with the same generation thresholds (qutebrowser does
the same).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class MainThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_if_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def freeze_survivors(self) -> None:
        """Move every object alive now into the permanent generation (`gc.freeze`).

        Called once the main window is up: what exists then (modules, classes, mapped
        tables, the SQL compile cache) lives as long as the app, and a full collection no
        longer walks it, so collections on the UI thread stay short. Idempotent enough: a
        second call (after switching clinic) freezes the survivors of the first session too.
        """
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        self._timer.stop()
        gc.unfreeze()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_if_due(self) -> int:
        """Collect the oldest generation whose threshold has been passed; the count freed."""
        counts = gc.get_count()
        generation = -1
        for level in range(3):
            if self._thresholds[level] and counts[level] > self._thresholds[level]:
                generation = level
        return gc.collect(generation) if generation >= 0 else 0
