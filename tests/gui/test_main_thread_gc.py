"""The UI-thread garbage collector: collects when due, freezes start-up's survivors."""

from __future__ import annotations

import gc

from pytestqt.qtbot import QtBot

from desk_app.views.main_thread_gc import MainThreadGarbageCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_collects_cycles_only_when_asked_and_freezes_start_up_objects(qtbot: QtBot) -> None:
    collector = MainThreadGarbageCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        collector.freeze_survivors()
        assert gc.get_freeze_count() > 0
        for _ in range(gc.get_threshold()[0] + 10):
            _Cycle()
        # Nothing collected them yet: automatic collection is off.
        assert any(type(o) is _Cycle for o in gc.get_objects())
        assert collector.collect_if_due() >= 1
        assert not any(type(o) is _Cycle for o in gc.get_objects())
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0
