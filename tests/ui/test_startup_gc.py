"""After the buddy list first loads, the start's objects leave the garbage collector's generations."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from ui.startup_gc import freeze_after


class _Feed(QObject):
    loaded = Signal()


def test_the_start_is_frozen_once_shortly_after_the_first_load(qtbot: QtBot) -> None:
    gc.unfreeze()
    feed = _Feed()
    try:
        freeze_after(feed.loaded, delay_ms=50)
        qtbot.wait(100)
        assert gc.get_freeze_count() == 0  # nothing before the buddy list is in
        feed.loaded.emit()
        assert gc.get_freeze_count() == 0  # not in the paint's way either: after the delay
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=2000)
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        feed.loaded.emit()  # a later reload of the list does not freeze again
        qtbot.wait(150)
        assert gc.get_freeze_count() == 0 and frozen > 1000
    finally:
        gc.unfreeze()
