"""After the buddy list first loads, the start's objects leave the garbage collector's generations."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from pytestqt.qtbot import QtBot

from ui.startup_gc import freeze_after, freeze_start


class _Feed(QObject):
    loaded = Signal()


def timers_due(qtbot: QtBot, delay_ms: int) -> None:
    """The sync point for timers: a precise marker timer started now with ``delay_ms`` has fired, so every
    timer started before it with a shorter delay has fired too (Qt fires timers in the order they fall due)."""
    fired: list[bool] = []
    marker = QTimer()
    marker.setSingleShot(True)
    marker.setTimerType(Qt.TimerType.PreciseTimer)
    marker.timeout.connect(lambda: fired.append(True))
    marker.start(delay_ms)
    qtbot.waitUntil(lambda: bool(fired), timeout=5000)


def test_the_start_is_frozen_once_shortly_after_the_first_load(qtbot: QtBot) -> None:
    feed, window = _Feed(), QObject()
    froze: list[int] = []
    freeze_after(feed.loaded, window, delay_ms=50, action=lambda: froze.append(1))
    timers_due(qtbot, 100)
    assert froze == []  # nothing before the buddy list is in
    feed.loaded.emit()
    assert froze == []  # not in the first paint's way either: after the delay
    qtbot.waitUntil(lambda: froze == [1], timeout=2000)
    feed.loaded.emit()  # a later reload of the list does not freeze again
    timers_due(qtbot, 100)
    assert froze == [1]


def test_no_freeze_when_the_window_is_gone_first(qtbot: QtBot) -> None:
    feed, window = _Feed(), QObject()
    froze: list[int] = []
    freeze_after(feed.loaded, window, delay_ms=50, action=lambda: froze.append(1))
    feed.loaded.emit()
    window.deleteLater()
    timers_due(qtbot, 100)
    assert froze == []


def test_freezing_moves_the_tracked_objects_out_of_the_collections() -> None:
    gc.unfreeze()
    try:
        freeze_start()
        assert gc.get_freeze_count() > 1000  # the test process's modules, at least
    finally:
        gc.unfreeze()
