"""The user's input in any of the app's windows, as activity for auto-away: an application-wide event
filter reports key presses, clicks, wheel turns and pointer moves to the core (``App.user_active``),
at most once every ``EVERY`` seconds. Where the desktop has no idle monitor (no Mutter IdleMonitor, no
freedesktop ScreenSaver on the session bus), this is all auto-away knows: without it, typing a message
would not keep the accounts available."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject

#: Seconds between two reports (the first input after a quiet spell is reported at once).
EVERY = 5.0

_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.InputMethod,
    }
)


class ActivityWatch(QObject):
    """Install on the QApplication (``installEventFilter``); never consumes an event."""

    def __init__(
        self,
        report: Callable[[], None],
        parent: QObject | None = None,
        *,
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._report = report
        self.every = every  # seconds between two reports
        self._clock = clock
        self._last: float | None = None
        self.reports = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            now = self._clock()
            if self._last is None or now - self._last >= self.every:
                self._last = now
                self.reports += 1
                self._report()
        return False
