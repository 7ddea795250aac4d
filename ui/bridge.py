"""The only crossing between the GUI thread and the engine thread.

Core -> UI: bus handlers run on the engine thread and only emit a Qt signal; the bridge lives on the
GUI thread, so the queued connection delivers each event there, where it is re-emitted as a typed
signal. UI -> core: ``call`` schedules a coroutine on the engine loop and hands the result (or the
error) to a callback on the GUI thread. Nothing here ever waits on the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

from aggregator.app.enrich import EventSource
from aggregator.app.runtime import PRIORITY_UI, EngineThread, Subscription, on_result
from aggregator.events import (
    AccountsChanged,
    AccountStateChanged,
    AccountWarning,
    ArchiveStorageChanged,
    AttachmentChanged,
    AttachmentProgress,
    ContactBlockChanged,
    ContactPresenceChanged,
    ContactRequestClosed,
    ContactRequestReceived,
    MessageStored,
    MessageUpdated,
    TypingNotice,
)
from aggregator.policy.events import PolicyNotice
from aggregator.presence.events import OwnStatusChanged
from aggregator.rooms.events import RoomChanged, RoomRemoved
from aggregator.roster.events import PersonAdded, PersonPresenceChanged, PersonRemoved, PersonUpdated, UnreadChanged

log = logging.getLogger(__name__)

T = TypeVar("T")
Done = Callable[[Any, BaseException | None], None]


class Bridge(QObject):
    # Every event also comes out of ``event``; the typed signals are for the widgets that want one kind.
    event = Signal(object)  # type: ignore[assignment]  # QObject.event() is a method; this is our signal
    account_state = Signal(object)  # AccountStateChanged
    accounts_changed = Signal(object)  # AccountsChanged
    account_warning = Signal(object)  # AccountWarning
    message_stored = Signal(object)  # MessageStored
    message_updated = Signal(object)  # MessageUpdated
    contact_presence = Signal(object)  # ContactPresenceChanged
    typing = Signal(object)  # TypingNotice
    person_added = Signal(object)  # PersonAdded
    person_updated = Signal(object)  # PersonUpdated
    person_removed = Signal(object)  # PersonRemoved
    person_presence = Signal(object)  # PersonPresenceChanged
    unread_changed = Signal(object)  # UnreadChanged
    policy_notice = Signal(object)  # PolicyNotice
    archive_storage = Signal(object)  # ArchiveStorageChanged
    own_status = Signal(object)  # OwnStatusChanged
    room_changed = Signal(object)  # RoomChanged
    room_removed = Signal(object)  # RoomRemoved
    contact_request = Signal(object)  # ContactRequestReceived
    contact_request_closed = Signal(object)  # ContactRequestClosed
    contact_blocked = Signal(object)  # ContactBlockChanged
    attachment_changed = Signal(object)  # AttachmentChanged
    attachment_progress = Signal(object)  # AttachmentProgress

    # Emitted on the engine thread, received on the GUI thread (queued).
    _incoming = Signal(object)
    _result = Signal(object, object, object)

    def __init__(self, engine: EngineThread, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._subscriptions: list[Subscription] = []
        #: UI -> engine calls whose answer comes back (``call`` and ``run``), and one-way commands
        #: (``post``): the benchmark counts both per incoming message.
        self.round_trips = 0
        self.posted = 0
        self._routes: dict[type[Any], Any] = {
            AccountStateChanged: self.account_state,
            AccountsChanged: self.accounts_changed,
            AccountWarning: self.account_warning,
            MessageStored: self.message_stored,
            MessageUpdated: self.message_updated,
            ContactPresenceChanged: self.contact_presence,
            TypingNotice: self.typing,
            PersonAdded: self.person_added,
            PersonUpdated: self.person_updated,
            PersonRemoved: self.person_removed,
            PersonPresenceChanged: self.person_presence,
            UnreadChanged: self.unread_changed,
            PolicyNotice: self.policy_notice,
            ArchiveStorageChanged: self.archive_storage,
            OwnStatusChanged: self.own_status,
            RoomChanged: self.room_changed,
            RoomRemoved: self.room_removed,
            ContactRequestReceived: self.contact_request,
            ContactRequestClosed: self.contact_request_closed,
            ContactBlockChanged: self.contact_blocked,
            AttachmentChanged: self.attachment_changed,
            AttachmentProgress: self.attachment_progress,
        }
        self._incoming.connect(self._deliver_event, Qt.ConnectionType.QueuedConnection)
        self._result.connect(self._deliver_result, Qt.ConnectionType.QueuedConnection)

    @property
    def engine(self) -> EngineThread:
        return self._engine

    # -- core -> UI ---------------------------------------------------------------------------------

    def attach(self, bus: EventSource) -> None:
        """Subscribe to the core's events (``App``: enriched; a bare bus in tests). Call on the engine
        thread (the bus is not thread-safe)."""
        for event_type in self._routes:
            self._subscriptions.append(bus.subscribe(event_type, self._forward, priority=PRIORITY_UI))

    def detach(self) -> None:
        """Unsubscribe. Call on the engine thread."""
        for sub in self._subscriptions:
            sub.cancel()
        self._subscriptions.clear()

    def _forward(self, event: object) -> None:  # engine thread
        self._incoming.emit(event)

    @Slot(object)
    def _deliver_event(self, event: object) -> None:  # GUI thread
        signal = self._routes.get(type(event))
        if signal is not None:
            signal.emit(event)
        self.event.emit(event)

    # -- UI -> core ---------------------------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T], on_done: Callable[[T | None, BaseException | None], None]) -> None:
        """Run ``coro`` on the engine loop; ``on_done(result, error)`` runs later on the GUI thread."""
        self.round_trips += 1
        try:
            future = self._engine.submit(coro)
        except RuntimeError as exc:  # the engine is gone (shutting down)
            coro.close()
            on_done(None, exc)
            return
        on_result(future, lambda result, error: self._result.emit(on_done, result, error))

    def run(self, fn: Callable[[], T], on_done: Callable[[T | None, BaseException | None], None]) -> None:
        """Run the plain function ``fn`` on the engine thread (core services are not thread-safe)."""

        async def wrapper() -> T:
            return fn()

        self.call(wrapper(), on_done)

    def post(self, fn: Callable[[], object]) -> None:
        """Run the plain function ``fn`` on the engine thread; nothing comes back (a failure is logged).
        For commands whose outcome the window learns from events (marking a conversation read)."""
        self.posted += 1

        async def wrapper() -> None:
            try:
                fn()
            except Exception:
                log.exception("A command posted from the UI failed")

        coro = wrapper()
        try:
            self._engine.submit(coro)
        except RuntimeError:  # the engine is gone (shutting down)
            coro.close()

    @Slot(object, object, object)
    def _deliver_result(self, on_done: Done, result: object, error: object) -> None:  # GUI thread
        try:
            on_done(result, error if isinstance(error, BaseException) else None)
        except Exception:
            log.exception("A UI callback failed")
