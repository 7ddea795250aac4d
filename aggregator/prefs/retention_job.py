"""The scheduled retention job: deletes what the policy's ``retention_days`` and the user's own retention
setting say is too old, at start, then once a day (and when the clock or the day changes).

It runs on the engine loop and deletes in batches (``retention.delete_batch``), yielding to the loop
between them, so logging goes on during a big purge. Space is given back only by the cheap incremental
compaction (a full ``VACUUM`` is for ``aggregator retention``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.api import Sphere
from aggregator.archive import Archive, retention

log = logging.getLogger(__name__)

INTERVAL = timedelta(hours=24)
#: How often the job looks at the clock (a changed day or a clock jump start a run).
TICK = 60.0


def _now() -> datetime:
    return datetime.now(UTC)


def effective_days(policy_days: int | None, user_days: int) -> int | None:
    """Days to keep: the smaller of the policy's maximum and the user's choice (0: forever); None: keep."""
    chosen = [d for d in (policy_days, user_days or None) if d]
    return min(chosen) if chosen else None


def plan(
    policy_plan: Mapping[str, int], user_days: Mapping[Sphere, int], accounts: Mapping[str, Sphere]
) -> dict[int, tuple[str, ...]]:
    """Days -> the accounts whose messages older than that go (``policy_plan``: the policy engine's
    ``retention_plan()``; ``user_days``: the user's setting per sphere; ``accounts``: each one's sphere)."""
    by_days: dict[int, list[str]] = {}
    for account_id, sphere in accounts.items():
        days = effective_days(policy_plan.get(account_id), user_days.get(sphere, 0))
        if days is not None:
            by_days.setdefault(days, []).append(account_id)
    return {d: tuple(sorted(ids)) for d, ids in sorted(by_days.items())}


@dataclass(frozen=True, slots=True)
class RetentionRun:
    at: datetime
    deleted: int


class RetentionJob:
    def __init__(
        self,
        archive: Archive,
        plan: Callable[[], Mapping[int, tuple[str, ...]]],
        *,
        clock: Callable[[], datetime] = _now,
        local: Callable[[datetime], datetime] = lambda t: t.astimezone(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tick: float = TICK,
    ) -> None:
        self._archive = archive
        self._plan = plan
        self._clock = clock
        self._local = local
        self._sleep = sleep
        self._tick = tick
        self._task: asyncio.Task[None] | None = None
        self._last: datetime | None = None
        self._wake = asyncio.Event()
        self.runs: list[RetentionRun] = []
        #: Deletes stored files no remaining message refers to (set by the bootstrap: the file store).
        self.release_files: retention.ReleaseFiles | None = None

    def due(self, now: datetime) -> bool:
        """At start, 24 h after the last run, on a new local day, or when the clock went back."""
        last = self._last
        if last is None:
            return True
        return now - last >= INTERVAL or now < last or self._local(now).date() != self._local(last).date()

    async def run_once(self) -> int:
        """Apply the plan now; returns how many messages were deleted."""
        now = self._clock()
        total = 0
        for days, account_ids in self._plan().items():
            scope = retention.RetentionScope(days=days, account_ids=account_ids, now=now)
            deleted = 0
            while True:
                step = retention.delete_batch(self._archive, scope, release_files=self.release_files)
                if not step:
                    break
                deleted += step
                await asyncio.sleep(0)  # let the loop log and deliver between batches
            if deleted:
                log.info(
                    "Retention: deleted %d messages older than %d days (before %s) of %s",
                    deleted,
                    days,
                    scope.cutoff.date().isoformat(),
                    ", ".join(account_ids),
                )
            total += deleted
        if total:
            reclaimed, how = retention.compact_space(self._archive, rewrite=False)
            if how:
                log.info("Retention: reclaimed %d KiB (%s)", reclaimed // 1024, how)
        else:
            log.debug("Retention: nothing to delete")
        self._last = now
        self.runs.append(RetentionRun(now, total))
        return total

    def poke(self) -> None:
        """Run again soon (the retention settings changed)."""
        self._last = None
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=5)

    async def _loop(self) -> None:
        while True:
            if self.due(self._clock()):
                try:
                    await self.run_once()
                except Exception:
                    log.exception("The retention job failed; it tries again at the next tick")
            self._wake.clear()
            sleeper = asyncio.ensure_future(self._sleep(self._tick))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
