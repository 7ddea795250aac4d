"""A progress bar on stderr when it is a terminal; otherwise a plain count now and then."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from aggregator.cli.output import err, status

_WIDTH = 30
_TTY_INTERVAL = 0.1
_PLAIN_INTERVAL = 5.0


class Progress:
    def __init__(self, label: str, total: int, unit: str, *, tty: bool | None = None, items: str | None = None) -> None:
        self.label = label
        self.total = max(0, total)
        self.unit = unit
        self.done = 0
        #: A second count shown with its rate (e.g. the messages of the files done).
        self.items_label = items
        self.items = 0
        self._began = time.monotonic()
        self._tty = sys.stderr.isatty() if tty is None else tty
        self._last = time.monotonic()
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.finish()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        interval = _TTY_INTERVAL if self._tty else _PLAIN_INTERVAL
        if now - self._last >= interval or self.done == self.total:
            self._last = now
            self._show()

    def add_items(self, n: int) -> None:
        self.items += n

    def _counts(self) -> str:
        text = f"{self.done:,}/{self.total:,} {self.unit}"
        if self.items_label is not None:
            elapsed = max(time.monotonic() - self._began, 1e-6)
            text += f", {self.items:,} {self.items_label} ({self.items / elapsed:,.0f}/s)"
        return text

    def _show(self) -> None:
        if self._tty:
            fraction = self.done / self.total if self.total else 1.0
            filled = int(_WIDTH * min(fraction, 1.0))
            bar = "#" * filled + "-" * (_WIDTH - filled)
            status(f"\r{self.label} [{bar}] {fraction:4.0%} {self._counts()}\x1b[K")
            self._drawn = True
        elif self.done < self.total:
            err(f"{self.label}: {self._counts()}")

    def finish(self) -> None:
        if self._drawn:
            status("\r\x1b[K")
            self._drawn = False
