"""A token-bucket queue for the lines we send: lines wait their turn, none is ever dropped.

Pure: the caller passes the clock. ``burst`` lines may go at once; after that one line per ``1/rate`` s.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class SendQueue(Generic[T]):
    def __init__(self, rate: float = 2.0, burst: int = 10, now: float = 0.0) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = now
        self._queue: deque[T] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, item: T) -> None:
        self._queue.append(item)

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = max(self._last, now)

    def pop_ready(self, now: float) -> list[T]:
        """The items that may go now, in order (they are removed from the queue)."""
        self._refill(now)
        ready: list[T] = []
        while self._queue and self._tokens >= 1.0:
            self._tokens -= 1.0
            ready.append(self._queue.popleft())
        return ready

    def delay(self, now: float) -> float | None:
        """Seconds until the next item may go (0 if now), or None when the queue is empty."""
        if not self._queue:
            return None
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate
