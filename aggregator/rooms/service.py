"""The room directory: the rooms of each account, joined or not, with our nick, members and topic.

Facts come from the adapters' room events (``RoomJoined``, ``RoomLeft``, ``RoomMembers``, ``RoomTopic``),
which the router publishes raw on the bus. The rooms the user wants to be in are the account's
``autojoin`` option plus what ``join`` added (``rooms.json``); after every connect they are joined
again. This service is the only place that joins them (the adapters do not read ``autojoin``).
Leaving a room of the ``autojoin`` option sticks: the address is remembered as left (``rooms.json``)
until the user joins it again; when the policy locks the profile's ``autojoin`` field, such a leave
is refused with the reason. A failed join never raises into the engine: it is recorded on the room
(``Room.error``) and reported as an ``AccountWarning`` with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from aggregator.accounts.config import AccountConfig
from aggregator.api import (
    AccountId,
    Adapter,
    AggregatorError,
    Capability,
    ConfigurationError,
    ConversationKey,
    NotConnectedError,
    PolicyError,
    ProtocolInfo,
    RoomJoined,
    RoomLeft,
    RoomMembers,
    RoomTopic,
    SupportsGroupChat,
    UnsupportedError,
)
from aggregator.archive import Archive, StoredMessage
from aggregator.bus import PRIORITY_CORE, EventBus
from aggregator.events import AccountStateChanged, AccountWarning, ConnectionState
from aggregator.registry import ProtocolRegistry
from aggregator.rooms.autojoin import autojoin_rooms
from aggregator.rooms.events import RoomChanged, RoomRemoved
from aggregator.rooms.records import Room, WantedRoom
from aggregator.rooms.store import RoomStore

log = logging.getLogger(__name__)


class RoomService:
    def __init__(
        self,
        archive: Archive,
        store: RoomStore,
        *,
        registry: ProtocolRegistry,
        accounts: Callable[[], Sequence[AccountConfig]],
        adapter_of: Callable[[AccountId], Adapter],
        bus: EventBus | None = None,
        autojoin_lock: Callable[[AccountId], str | None] | None = None,
    ) -> None:
        self._archive = archive
        self._store = store
        self._registry = registry
        self._accounts = accounts
        self._adapter_of = adapter_of
        self._bus = bus
        #: Why the account's autojoin rooms may not be left (the policy locks them), or None.
        self._autojoin_lock = autojoin_lock or (lambda _account_id: None)
        self._wanted: dict[AccountId, list[WantedRoom]] = {}
        #: Addresses of the account's autojoin rooms the user left: not joined again.
        self._left: dict[AccountId, list[str]] = {}
        #: What the adapters reported, by room: joined or not, nick, members, topic.
        self._live: dict[ConversationKey, Room] = {}
        #: The handle an autojoin address turned out to have (a Matrix alias -> its room id).
        self._resolved: dict[tuple[AccountId, str], str] = {}
        self._errors: dict[ConversationKey, str] = {}
        self._leaving: set[ConversationKey] = set()
        self._rows: dict[ConversationKey, Room] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- set-up ---------------------------------------------------------------------------------

    def load(self) -> None:
        choices = self._store.load_choices()
        self._wanted = {account: list(entries) for account, entries in choices.wanted.items()}
        self._left = {account: list(addresses) for account, addresses in choices.left.items()}
        for account in self._accounts():
            self._refresh(account.id, publish=False)

    def attach(self, bus: EventBus) -> None:
        self._bus = bus
        bus.subscribe(RoomJoined, self._on_joined, priority=PRIORITY_CORE)
        bus.subscribe(RoomLeft, self._on_left, priority=PRIORITY_CORE)
        bus.subscribe(RoomMembers, self._on_members, priority=PRIORITY_CORE)
        bus.subscribe(RoomTopic, self._on_topic, priority=PRIORITY_CORE)
        bus.subscribe(AccountStateChanged, self._on_state, priority=PRIORITY_CORE)

    async def wait_idle(self) -> None:
        """Wait until the joins started after a connect are done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- queries --------------------------------------------------------------------------------

    def rooms(self, account_id: AccountId | None = None) -> list[Room]:
        """The rooms of one account (or of all), by account order, then name."""
        order = {a.id: n for n, a in enumerate(self._accounts())}
        rows = [r for r in self._rows.values() if account_id in (None, r.account_id)]
        return sorted(rows, key=lambda r: (order.get(r.account_id, len(order)), r.name.casefold(), r.key.handle))

    def room(self, key: ConversationKey) -> Room | None:
        return self._rows.get(key)

    def find(self, account_id: AccountId, text: str) -> Room:
        """The account's room named ``text`` (its address as joined, or its handle); raises
        ``ConfigurationError`` naming the account's rooms when there is none."""
        wanted = text.strip()
        rows = self.rooms(account_id)
        for row in rows:
            if wanted in (row.key.handle, row.address) or wanted.casefold() == row.address.casefold():
                return row
        key = self._safe_key(self._config(account_id), WantedRoom(wanted))
        found = self._rows.get(key) if key is not None else None
        if found is None:
            known = ", ".join(r.name for r in rows) or "none"
            raise ConfigurationError(f"{account_id} has no room {wanted!r} (rooms: {known})")
        return found

    def is_room(self, account_id: AccountId, handle: str) -> bool:
        """Whether ``handle`` is a room this account knows (for sends to a room address)."""
        return ConversationKey.room(account_id, handle) in self._rows

    def history(
        self, key: ConversationKey, *, limit: int | None = None, before_id: int | None = None
    ) -> list[StoredMessage]:
        """The room's archived messages, oldest first; with ``limit``, the newest ``limit`` before
        ``before_id`` (page back by passing the oldest id of the previous page)."""
        conv_id = self._archive.conversation_id(key, create=False)
        return [] if conv_id is None else self._archive.history([conv_id], limit=limit, before_id=before_id)

    # -- commands -------------------------------------------------------------------------------

    async def join(self, account_id: AccountId, address: str, nick: str | None = None) -> Room:
        """Join a room now (if the account is connected) and after every connect from now on.

        Raises ``ConfigurationError`` for an unknown account or a malformed address,
        ``UnsupportedError`` when the protocol has no group chats, and what the adapter raises when
        the room refuses us (then nothing is remembered). Offline, the room is remembered and joined
        at the next connect."""
        config = self._config(account_id)
        info = self._info(config)
        if not info.capabilities & Capability.GROUP_CHAT:
            raise UnsupportedError(f"{info.name} accounts have no group chats")
        text = address.strip()
        if not text:
            raise ConfigurationError("name the room to join")
        nick = (nick or "").strip() or None
        wanted = WantedRoom(text, nick)
        key = self._key_of(config, wanted)  # raises ConfigurationError for a malformed address
        adapter = self._group_chat(account_id)
        if adapter is not None:
            key = await adapter.join_room(text, nick)
            wanted = replace(wanted, handle=key.handle)
            live = self._live_room(key)
            if not live.joined:  # the adapter's RoomJoined may still be on its way through the queue
                self._live[key] = replace(live, joined=True, nick=live.nick or nick)
        self._errors.pop(key, None)
        entries = [w for w in self._wanted.get(account_id, []) if self._safe_key(config, w) != key]
        self._wanted[account_id] = [*entries, wanted]
        left = self._left.get(account_id, [])
        self._left[account_id] = [a for a in left if not self._same_room(config, a, wanted, key)]
        self._save()
        self._refresh(account_id)
        return self._rows[key]

    async def leave(self, key: ConversationKey) -> Room | None:
        """Leave a room and stop joining it, also when it is in the account's ``autojoin`` option (it
        is remembered as left). Raises ``PolicyError`` for an autojoin room when the policy locks the
        account's ``autojoin``. Returns the room if it is still listed (the server has not confirmed
        the leave yet), else None."""
        config = self._config(key.account_id)
        row = self._rows.get(key)
        if row is None:
            raise ConfigurationError(f"{key.account_id} has no room {key.handle}")
        if row.autojoin:
            locked = self._autojoin_lock(key.account_id)
            if locked:
                raise PolicyError(f"cannot leave {row.name}: {locked}", rule="autojoin")
        entries = self._wanted.get(key.account_id, [])
        kept = [w for w in entries if self._safe_key(config, w) != key]
        left = self._left.get(key.account_id, [])
        if row.autojoin and row.address not in left:
            left = [*left, row.address]
        if len(kept) != len(entries) or left != self._left.get(key.account_id, []):
            self._wanted[key.account_id] = kept
            self._left[key.account_id] = left
            self._save()
        self._errors.pop(key, None)
        adapter = self._group_chat(key.account_id)
        if adapter is not None and row.joined:
            self._leaving.add(key)  # until its RoomLeft arrives: that one is no error
            try:
                await adapter.leave_room(key)
            except BaseException:
                self._leaving.discard(key)
                raise
        self._live.pop(key, None)
        self._refresh(key.account_id)
        return self._rows.get(key)

    async def set_topic(self, key: ConversationKey, topic: str) -> None:
        """Ask the room to take ``topic``; the room's answer (``RoomTopic``) updates the directory."""
        row = self._rows.get(key)
        if row is None:
            raise ConfigurationError(f"{key.account_id} has no room {key.handle}")
        adapter = self._group_chat(key.account_id)
        if adapter is None or not row.joined:
            raise NotConnectedError(f"not in the room {row.name} right now")
        await adapter.set_topic(key, topic)

    def forget_account(self, account_id: AccountId) -> None:
        """The account was removed: its rooms leave the directory (``RoomRemoved``) and ``rooms.json``."""
        self._live = {k: v for k, v in self._live.items() if k.account_id != account_id}
        self._errors = {k: v for k, v in self._errors.items() if k.account_id != account_id}
        self._resolved = {k: v for k, v in self._resolved.items() if k[0] != account_id}
        joined, left = self._wanted.pop(account_id, None), self._left.pop(account_id, None)
        if joined is not None or left is not None:
            self._save()
        for key in [k for k in self._rows if k.account_id == account_id]:
            del self._rows[key]
            self._publish(RoomRemoved(key=key))

    # -- adapter events -------------------------------------------------------------------------

    def _live_room(self, key: ConversationKey) -> Room:
        return self._live.get(key) or Room(key=key, address=key.handle)

    def _on_joined(self, event: RoomJoined) -> None:
        key = event.conversation
        self._leaving.discard(key)
        self._live[key] = replace(self._live_room(key), joined=True, nick=event.nick)
        self._errors.pop(key, None)
        self._refresh(key.account_id)

    def _on_left(self, event: RoomLeft) -> None:
        key = event.conversation
        if key in self._leaving:
            self._leaving.discard(key)
        elif key in self._rows:
            self._errors[key] = event.reason or "left the room"
        self._live.pop(key, None)
        self._refresh(key.account_id)

    def _on_members(self, event: RoomMembers) -> None:
        key = event.conversation
        self._live[key] = replace(self._live_room(key), members=tuple(event.members))
        self._refresh(key.account_id)

    def _on_topic(self, event: RoomTopic) -> None:
        key = event.conversation
        self._live[key] = replace(self._live_room(key), topic=event.topic, topic_set_by=event.set_by)
        self._refresh(key.account_id)

    def _on_state(self, event: AccountStateChanged) -> None:
        account_id = event.account_id
        if event.state is ConnectionState.CONNECTED:
            task = asyncio.get_running_loop().create_task(self._join_wanted(account_id), name=f"rooms:{account_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        for key, live in list(self._live.items()):
            if key.account_id == account_id and (live.joined or live.members):
                self._live[key] = replace(live, joined=False, members=())
        self._refresh(account_id)

    async def _join_wanted(self, account_id: AccountId) -> None:
        """After a connect: join every wanted room not joined yet, one after the other."""
        try:
            config = self._config(account_id)
            adapter = self._group_chat(account_id)
        except AggregatorError as exc:
            log.info("No rooms joined on %s: %s", account_id, exc)
            return
        if adapter is None:
            return
        for wanted, _autojoin in self._entries(config):
            try:
                key = self._key_of(config, wanted)
            except ConfigurationError as exc:  # a malformed autojoin entry: say so, join the others
                self._publish(AccountWarning(account_id=account_id, message=f"autojoin: {exc}"))
                continue
            if self._live_room(key).joined:
                continue
            try:
                joined = await adapter.join_room(wanted.address, wanted.nick)
            except NotConnectedError:
                return  # the connection went again; the next connect tries again
            except Exception as exc:
                if not isinstance(exc, AggregatorError):
                    log.exception("Joining %s on %s failed unexpectedly", wanted.address, account_id)
                reason = str(exc) or type(exc).__name__
                self._errors[key] = reason
                self._refresh(account_id)
                self._publish(
                    AccountWarning(account_id=account_id, message=f"could not join {wanted.address}: {reason}")
                )
                continue
            if joined != key:
                self._resolve(config, wanted, joined, old=key)

    def _resolve(
        self, config: AccountConfig, wanted: WantedRoom, joined: ConversationKey, old: ConversationKey
    ) -> None:
        """The protocol named the room differently (a Matrix alias is a room id): remember it."""
        self._resolved[(config.id, wanted.address)] = joined.handle
        entries = self._wanted.get(config.id, [])
        if wanted in entries:
            self._wanted[config.id] = [replace(w, handle=joined.handle) if w == wanted else w for w in entries]
            self._save()
        self._errors.pop(old, None)
        self._refresh(config.id)

    # -- the rows -------------------------------------------------------------------------------

    def _entries(self, config: AccountConfig) -> list[tuple[WantedRoom, bool]]:
        """The account's wanted rooms: its autojoin option (less the rooms the user left) first, then
        what the user joined."""
        left = self._left.get(config.id, [])
        options = [w for w in autojoin_rooms(config.options) if not any(self._same_room(config, a, w) for a in left)]
        return [(w, True) for w in options] + [(w, False) for w in self._wanted.get(config.id, [])]

    def _same_room(
        self, config: AccountConfig, address: str, wanted: WantedRoom, key: ConversationKey | None = None
    ) -> bool:
        """Whether the remembered ``address`` names the room of ``wanted`` (or of ``key``)."""
        if address.casefold() == wanted.address.casefold():
            return True
        other = self._safe_key(config, WantedRoom(address))
        target = key or self._safe_key(config, wanted)
        return other is not None and other == target

    def _key_of(self, config: AccountConfig, wanted: WantedRoom) -> ConversationKey:
        handle = wanted.handle or self._resolved.get((config.id, wanted.address))
        if handle is None:
            try:
                handle = self._info(config).normalize_handle(wanted.address)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{wanted.address!r} is not a room address: {exc}") from None
        return ConversationKey.room(config.id, handle)

    def _safe_key(self, config: AccountConfig, wanted: WantedRoom) -> ConversationKey | None:
        try:
            return self._key_of(config, wanted)
        except ConfigurationError:
            return None

    def _refresh(self, account_id: AccountId, *, publish: bool = True) -> None:
        """Recompute the account's rows from what it wants and what the adapter reported; publish the
        differences."""
        rows: dict[ConversationKey, Room] = {}
        config = next((a for a in self._accounts() if a.id == account_id), None)
        if config is not None:
            for wanted, autojoin in self._entries(config):
                try:
                    key = self._key_of(config, wanted)
                except ConfigurationError as exc:
                    log.warning("%s: skipping the room %r: %s", account_id, wanted.address, exc)
                    continue
                live = self._live_room(key)
                earlier = rows.get(key)
                rows[key] = replace(
                    live,
                    address=wanted.address,
                    nick=live.nick if live.joined else (wanted.nick or (earlier.nick if earlier else None)),
                    wanted=True,
                    autojoin=autojoin or (earlier is not None and earlier.autojoin),
                )
            for key, live in self._live.items():  # an account that is gone keeps no rooms
                if key.account_id == account_id and key not in rows:
                    rows[key] = live
        rows = {key: replace(row, error=self._errors.get(key, "")) for key, row in rows.items()}
        old = {key: row for key, row in self._rows.items() if key.account_id == account_id}
        for key in old.keys() - rows.keys():
            del self._rows[key]
            if publish:
                self._publish(RoomRemoved(key=key))
        for key, row in rows.items():
            if old.get(key) != row:
                self._rows[key] = row
                if publish:
                    self._publish(RoomChanged(room=row))

    # -- helpers --------------------------------------------------------------------------------

    def _config(self, account_id: AccountId) -> AccountConfig:
        config = next((a for a in self._accounts() if a.id == account_id), None)
        if config is None:
            raise ConfigurationError(f"no account {account_id}")
        return config

    def _info(self, config: AccountConfig) -> ProtocolInfo:
        return self._registry.get(config.protocol)

    def _group_chat(self, account_id: AccountId) -> SupportsGroupChat | None:
        """The connected adapter, if it is connected; raises ``UnsupportedError`` without group chats."""
        try:
            adapter = self._adapter_of(account_id)
        except NotConnectedError:
            return None
        if not isinstance(adapter, SupportsGroupChat):
            raise UnsupportedError(f"{account_id} cannot join rooms")
        return adapter

    def _save(self) -> None:
        self._store.save(self._wanted, self._left)

    def _publish(self, event: object) -> None:
        if self._bus is not None:
            self._bus.publish(event)
