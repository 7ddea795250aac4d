"""Time-ordered message ids: ``milliseconds since 1970 << 12 | sequence``.

Assigned explicitly by the single writer so that primary-key order is time order, also for
history that arrives late (backfill), which is what lets full-text search walk the index backwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

SEQ_BITS = 12
SEQ_MASK = (1 << SEQ_BITS) - 1


def id_floor(ms: int) -> int:
    return ms << SEQ_BITS


def id_to_ms(message_id: int) -> int:
    return message_id >> SEQ_BITS


def datetime_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class MessageIdAllocator:
    """Hands out unique ids that sort by time.

    ``max_in_range(lo, hi)`` returns the largest id already stored in ``[lo, hi)``, or None: it is
    asked only when a message is older than the newest id handed out (backfill), so live traffic
    costs no query.
    """

    def __init__(self, newest: int | None, max_in_range: Callable[[int, int], int | None]) -> None:
        self._newest = newest or 0
        self._max_in_range = max_in_range

    @property
    def newest(self) -> int:
        """The newest id handed out (or stored when the allocator was made)."""
        return self._newest

    def allocate(self, at: datetime) -> int:
        return self.allocate_ms(max(datetime_ms(at), 0))

    def allocate_after(self, previous: int) -> int:
        """The id just after ``previous`` when it is free (to sort between ``previous`` and the next
        stored id); else an id after everything in ``previous``'s millisecond."""
        candidate = previous + 1
        if candidate > self._newest:
            self._newest = candidate
            return candidate
        if self._max_in_range(candidate, candidate + 1) is None:
            return candidate
        return self.allocate_ms(id_to_ms(previous))

    def allocate_ms(self, ms: int) -> int:
        """An unused id in millisecond ``ms`` (after every id already there), or just after it if full."""
        floor = id_floor(ms if ms > 0 else 0)
        if floor > self._newest:
            self._newest = floor
            return floor
        if id_to_ms(self._newest) == id_to_ms(floor):
            self._newest += 1
            return self._newest
        # Older than the newest id: find a free slot within that millisecond (or just after it).
        candidate = floor
        while True:
            taken = self._max_in_range(candidate, candidate + (1 << SEQ_BITS))
            if taken is None:
                return candidate
            if taken + 1 < candidate + (1 << SEQ_BITS):
                return taken + 1
            candidate += 1 << SEQ_BITS  # a full millisecond (4096 messages): spill into the next
            if candidate > self._newest:
                self._newest += 1
                return self._newest
