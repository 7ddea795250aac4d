"""Typing, both ways: "NAME is typing…" under the timeline, and our own typing state, throttled.

``TypingIndicator`` shows the peer's notice and clears itself after ``TIMEOUT_MS`` without news (a peer
that stopped typing may never say so). ``TypingThrottle`` turns keystrokes into a few state changes:
True at the first edit (and again every ``REFRESH_MS`` while the user goes on typing), False after
``IDLE_MS`` without an edit or as soon as the input is emptied.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

log = logging.getLogger(__name__)

TIMEOUT_MS = 30_000
REFRESH_MS = 10_000
IDLE_MS = 5_000


class TypingIndicator(QLabel):
    def __init__(self, parent: QWidget | None = None, *, timeout_ms: int = TIMEOUT_MS) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAccessibleName("Typing")
        self.setStyleSheet("color: #606060; font-style: italic")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.clear_typing)
        self.clear_typing()

    def set_typing(self, name: str, typing: bool) -> None:
        if not typing:
            self.clear_typing()
            return
        self.setText(f"{name} is typing…")
        self._timer.start()

    def clear_typing(self) -> None:
        self._timer.stop()
        self.setText(" ")  # keeps its height, so the timeline does not jump

    @property
    def showing(self) -> bool:
        return bool(self.text().strip())


class TypingThrottle(QObject):
    changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, idle_ms: int = IDLE_MS, refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(parent)
        self._refresh = refresh_ms / 1000
        self._active = False
        self._last = 0.0
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_ms)
        self._idle.timeout.connect(self.stop)

    @property
    def active(self) -> bool:
        return self._active

    def edited(self, empty: bool) -> None:
        """The user changed the input; ``empty``: it is empty now."""
        if empty:
            self.stop()
            return
        now = time.monotonic()
        if not self._active or now - self._last >= self._refresh:
            self._active = True
            self._last = now
            self.changed.emit(True)
        self._idle.start()

    def stop(self) -> None:
        self._idle.stop()
        if self._active:
            self._active = False
            self.changed.emit(False)
