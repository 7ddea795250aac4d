"""Applies the user's own status to every connected account, and again after each connect.

Re-evaluated every ``TICK`` seconds (work hours, idleness) and at once on a change or on activity;
``set_presence`` is called only when what an account shows changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from aggregator.accounts.config import AccountConfig
from aggregator.api import AccountError, AccountId, Adapter, Presence, Sphere
from aggregator.bus import EventBus
from aggregator.events import AccountStateChanged, ConnectionState
from aggregator.presence.events import OwnStatusChanged
from aggregator.presence.idle import AppInputIdle, IdleSource
from aggregator.presence.rules import notifications_held, shown_presence
from aggregator.presence.status import StatusBook, StatusFile
from aggregator.presence.workhours import WorkHours

log = logging.getLogger(__name__)

TICK = 15.0


def _local_now() -> datetime:
    return datetime.now().astimezone()


class OwnStatus:
    def __init__(
        self,
        file: StatusFile,
        *,
        accounts: Callable[[], Sequence[AccountConfig]],
        adapter_of: Callable[[AccountId], Adapter],
        idle: IdleSource | None = None,
        app_input: AppInputIdle | None = None,
        clock: Callable[[], datetime] = _local_now,
    ) -> None:
        self._file = file
        self._accounts = accounts
        self._adapter_of = adapter_of
        self.app_input = app_input or AppInputIdle()
        self._idle_source: IdleSource = idle or self.app_input
        self._clock = clock
        self.book = file.load()
        self._idle: float | None = None
        self._sent: dict[AccountId, Presence] = {}
        self._task: asyncio.Task[None] | None = None
        self._bus: EventBus | None = None
        self._published: OwnStatusChanged | None = None
        self._ticks: set[asyncio.Task[None]] = set()

    def attach(self, bus: EventBus) -> None:
        self._bus = bus
        bus.subscribe(AccountStateChanged, self._on_state)

    # -- reading --------------------------------------------------------------------------------------

    def _sphere(self, account_id: AccountId) -> Sphere:
        return next((a.sphere for a in self._accounts() if a.id == account_id), Sphere.PERSONAL)

    def shown(self, account_id: AccountId) -> Presence:
        return shown_presence(self.book, account_id, self._sphere(account_id), self._clock(), self._idle)

    def snapshot(self) -> OwnStatusChanged:
        """The choices and what every configured account shows now."""
        return OwnStatusChanged(book=self.book, shown=tuple((a.id, self.shown(a.id)) for a in self._accounts()))

    def now(self) -> datetime:
        """The local time work hours are judged by (the injected clock in tests)."""
        return self._clock()

    def notifications_held(self, account_id: AccountId, now: datetime | None = None) -> bool:
        """Whether a notification for this account waits (the one call the UI's notifications make).

        True while the account's sphere is off duty by the work-hours schedule: personal accounts
        during work hours, work accounts outside them (the user's override for today counts). Nothing
        is held without a schedule. ``now`` (aware, local) defaults to the service's clock."""
        return notifications_held(self.book, self._sphere(account_id), now or self._clock())

    # -- the user's commands --------------------------------------------------------------------------

    async def set_status(
        self, presence: Presence | None, *, sphere: Sphere | None = None, account: AccountId | None = None
    ) -> None:
        await self._change(self.book.with_status(presence, sphere=sphere, account=account))

    async def set_work_hours(self, hours: WorkHours) -> None:
        await self._change(replace(self.book, work_hours=hours))

    async def override_today(self, working: bool | None) -> None:
        await self.set_work_hours(self.book.work_hours.override_today(self._clock(), working))

    async def activity(self) -> None:
        """The user did something in the app: back from auto-away at once."""
        self.app_input.activity()
        await self.tick()

    def input_seen(self) -> None:
        """The user typed or clicked in one of the app's windows (engine thread; the window reports it
        at most every few seconds). The app's own idle clock restarts, and an account away because of
        idleness is back at once; otherwise the next tick sees it."""
        self.app_input.activity()
        limit = self.book.auto_away_minutes * 60
        if limit > 0 and self._idle is not None and self._idle >= limit:
            task = asyncio.get_running_loop().create_task(self.tick())
            self._ticks.add(task)
            task.add_done_callback(self._ticks.discard)

    async def replace_book(self, book: StatusBook) -> None:
        await self._change(book)

    async def _change(self, book: StatusBook) -> None:
        self._file.save(book)
        self.book = book
        await self.apply()

    # -- applying -------------------------------------------------------------------------------------

    async def tick(self) -> None:
        self._idle = await self._idle_source.idle_seconds()
        await self.apply()

    async def apply(self, only: AccountId | None = None) -> None:
        for account in self._accounts():
            if only is not None and account.id != only:
                continue
            try:
                adapter = self._adapter_of(account.id)
            except AccountError:
                continue
            presence = self.shown(account.id)
            if self._sent.get(account.id) == presence:
                continue
            self._sent[account.id] = presence
            try:
                await adapter.set_presence(presence)
            except AccountError as exc:
                self._sent.pop(account.id, None)
                log.info("%s: could not set the presence: %s", account.id, exc)
        self._publish()

    def _publish(self) -> None:
        """Announce the choices and the shown presences when they differ from the last announcement."""
        if self._bus is None:
            return
        snapshot = self.snapshot()
        if snapshot != self._published:
            self._published = snapshot
            self._bus.publish(snapshot)

    def _on_state(self, event: AccountStateChanged) -> None:
        self._sent.pop(event.account_id, None)
        if event.state is ConnectionState.CONNECTED:
            asyncio.get_running_loop().create_task(self.apply(event.account_id))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Bounded: stopping the app must never wait on a desktop service.
            await asyncio.wait({task}, timeout=3)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("Updating the own status failed")
            await asyncio.sleep(TICK)
