"""After the start, take what it allocated out of the garbage collector's way.

Everything the start creates (modules, the core, the first buddy list) lives as long as the session,
yet every full collection walks it again: with 10,000 persons one took ~55 ms on the GUI thread, a
visible stall while messages were arriving (``bench.ui``, stalls). ``gc.freeze()`` moves the objects
tracked so far into the permanent generation, so later full collections only walk what came after.
Frozen objects are still freed by reference counting; only reference cycles among them would stay.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, SignalInstance

log = logging.getLogger(__name__)

#: After the buddy list is in (and painted): the accounts' first burst of work is part of the start too.
FREEZE_DELAY_MS = 1000


def freeze_after(
    loaded: SignalInstance, owner: QObject, delay_ms: int = FREEZE_DELAY_MS, action: Callable[[], None] | None = None
) -> None:
    """Freeze the start's objects ``delay_ms`` after ``loaded`` first fires (once), unless ``owner`` (the
    window) is gone by then. ``action`` replaces the freezing (tests)."""
    done = False

    def schedule() -> None:
        nonlocal done
        if not done:
            done = True
            QTimer.singleShot(delay_ms, owner, action or freeze_start)

    loaded.connect(schedule)


def freeze_start() -> None:
    gc.collect(1)  # the young generations' garbage first (cheap); then everything older is kept as is
    gc.freeze()
    log.debug("Froze %d objects from the start", gc.get_freeze_count())
