"""``MatrixAdapter``: one Matrix account on matrix-nio's ``AsyncClient``. A thin shell: it builds the
feature modules of the account and routes the core's calls to them.

- ``session.py``: who the account is, its homeserver, the event sink, the live client, request errors;
- ``lib.py``: the typed edge of nio (the only module calling nio or reading its replies);
- ``crypto_store.py``: the nio client configuration and its end-to-end encryption store;
- ``connection.py``: login (password or restored token) and logout; ``sync.py``: the ``/sync`` loop;
- ``catchup.py`` (+ ``positions.py``): resume positions, gaps of limited timelines, history fetch;
- ``timeline.py``: a joined room's timeline, typing and read receipts -> events (via ``mapping.py``);
- ``direct.py``: direct chats, the roster they make, invitations; ``ignored.py``: blocking (the ignore
  list); ``rooms.py`` (+ ``room_state.py``): group rooms; ``undecrypted.py``: events waiting for their
  key; ``devices.py``: key upkeep, device trust;
- ``mapping.py``: nio events -> typed adapter events (no state, no I/O).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime

from aggregator.api import (
    AccountId,
    AccountSettings,
    ConfigurationError,
    ConversationKey,
    ConversationKind,
    Credentials,
    EventSink,
    FileOffer,
    OutgoingMessage,
    Presence,
    ProtocolError,
    SendReceipt,
    TrustLevel,
)
from protocols.matrix import crypto_store, files, mapping
from protocols.matrix.addresses import is_room_id, normalize_address
from protocols.matrix.catchup import History, Positions
from protocols.matrix.connection import Connection
from protocols.matrix.devices import Devices
from protocols.matrix.direct import DirectChats
from protocols.matrix.ignored import IgnoredUsers
from protocols.matrix.lib import CannotSend, Failure
from protocols.matrix.rooms import Rooms
from protocols.matrix.session import Session
from protocols.matrix.sync import Syncer
from protocols.matrix.timeline import Timelines
from protocols.matrix.undecrypted import Undecrypted

log = logging.getLogger(__name__)


class MatrixAdapter:
    """One Matrix account. Raises ``ConfigurationError`` for unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self._session = session = Session(settings, sink)
        encryption = crypto_store.encryption_enabled(session)
        self._positions = Positions(session)
        self._undecrypted = Undecrypted(session, encryption, lambda room: self._timelines.context(room))
        self._ignored = IgnoredUsers(session)
        self._direct = DirectChats(session, lambda peer: self._devices.track(peer), self._ignored)
        self._devices = Devices(session, lambda: self._direct.roster, self._undecrypted)
        self._rooms = Rooms(session)
        self._timelines = Timelines(
            session, self._direct, self._rooms, self._positions, self._undecrypted, self._ignored
        )
        self._history = History(session, self._positions, self._undecrypted, self._timelines.context)
        self._syncer = Syncer(
            session,
            positions=self._positions,
            history=self._history,
            direct=self._direct,
            rooms=self._rooms,
            timelines=self._timelines,
            undecrypted=self._undecrypted,
            devices=self._devices,
            ignored=self._ignored,
        )
        self._connection = Connection(
            session, self._syncer, self._undecrypted, encryption=encryption, reset=self._reset
        )

    @property
    def _account_id(self) -> AccountId:
        return self._session.account_id

    def _reset(self) -> None:
        """A new connection starts from what its first sync says."""
        self._direct.reset()
        self._timelines.reset()
        self._rooms.reset()
        self._devices.reset()

    # ------------------------------------------------------------------------------ connection

    async def connect(self, credentials: Credentials) -> None:
        await self._connection.connect(credentials)

    async def disconnect(self) -> None:
        await self._connection.disconnect()

    def resume_from(self, stored: Mapping[str, str]) -> None:
        """``SupportsResume``: the sync token and rooms' newest events the core stored after their events.
        Without a stored token, what an earlier version left in the data dir (removed once the core has one)."""
        self._positions.resume_from(stored)

    # ----------------------------------------------------------------------------------- actions

    async def set_presence(self, presence: Presence) -> None:
        client = self._session.require_client()
        state = mapping.PRESENCE_OUT[presence.kind]
        self._syncer.presence_state = state
        reply = await self._session.call(client.set_presence(state, presence.status or None))
        if isinstance(reply, Failure):
            raise self._session.error_reply("set the presence", reply)

    async def set_typing(self, conversation: ConversationKey, typing: bool) -> None:
        client = self._session.require_client()
        room_id = self._known_room(conversation)
        if room_id is None:
            return  # no direct chat yet: nothing to show the peer
        await self._session.call(client.room_typing(room_id, typing, timeout=30_000))

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        client = self._session.require_client()
        room_id = await self._room_for(conversation)
        content = mapping.message_content(message.body, message.kind)
        file_url: str | None = None
        if message.file is not None:
            if message.body.strip():  # the caption first, as its own message (Matrix files have no caption)
                await self.send_message(
                    conversation,
                    OutgoingMessage(body=message.body, idempotency_key=f"{message.idempotency_key}.caption"),
                )
            room = client.room(room_id)
            uploaded = await files.upload(
                self._session.homeserver,
                client.access_token,
                self._session.ssl,
                message.file,
                encrypt=room is not None and room.encrypted,
                allow_http=self._plaintext_media,
            )
            file_url = str(uploaded["file"]["url"] if "file" in uploaded else uploaded["url"])
            content = uploaded
        try:
            reply = await self._session.call(client.room_send(room_id, content, tx_id=message.idempotency_key))
        except CannotSend as exc:
            raise ProtocolError(f"cannot send to {conversation.handle}: {exc}") from None
        if isinstance(reply, Failure):
            raise self._session.error_reply(f"accept a message to {conversation.handle}", reply)
        return SendReceipt(remote_id=reply, file_url=file_url)

    # Files (SupportsFiles): uploads go out with send_message; downloads use the authenticated media API.

    @property
    def _plaintext_media(self) -> bool:
        return self._session.settings.allow_plaintext and self._session.homeserver.startswith("http://")

    def download(self, offer: FileOffer) -> AsyncIterator[bytes]:
        client = self._session.require_client()
        return files.download(
            self._session.homeserver,
            client.access_token,
            self._session.ssl,
            offer.url,
            allow_http=self._plaintext_media,
        )

    def max_upload_bytes(self) -> int | None:
        return None  # the homeserver's m.upload.size is not asked for; a refusal names the limit

    async def fetch_history(self, conversation: ConversationKey, after: datetime | None, limit: int) -> int:
        """Emits up to ``limit`` messages of ``conversation`` (``is_backfill``), oldest first: the newest ones,
        paged back through ``/messages`` from the room's current end down to ``after`` (exclusive) when
        given. Returns how many were emitted. A direct chat without a room has no history (0)."""
        client = self._session.require_client()
        if limit <= 0:
            return 0
        room_id = self._known_room(conversation)
        if room_id is None:
            return 0
        room = client.room(room_id)
        if room is None:
            raise ConfigurationError(f"{self._account_id} is not in {conversation.handle}; join it first")
        return await self._history.fetch(client, room, conversation.handle, after, limit)

    # Group chat (SupportsGroupChat)

    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey:
        return await self._rooms.join(room)

    async def leave_room(self, room: ConversationKey) -> None:
        await self._rooms.leave(room)

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        await self._rooms.set_topic(room, topic)

    # Contacts (SupportsRosterEdit): a Matrix "contact" is a direct chat.

    async def add_contact(self, handle: str, name: str | None = None, groups: tuple[str, ...] = ()) -> None:
        """Starts a direct chat with ``handle`` (the peer sees an invitation), or accepts the one they sent;
        a direct chat that exists already is kept. Matrix has no names or groups of our own for contacts."""
        await self._direct.room_of(normalize_address(handle))

    async def remove_contact(self, handle: str) -> None:
        """Leaves and forgets the direct chats with ``handle`` and drops them from ``m.direct``."""
        self._session.require_client()
        await self._direct.remove(normalize_address(handle))

    async def answer_subscription(self, handle: str, accept: bool) -> None:
        """Joins (``accept``) or rejects the pending direct-chat invitations from ``handle``."""
        self._session.require_client()
        peer = normalize_address(handle)
        if accept:
            await self._direct.accept_invites(peer)
        else:
            await self._direct.reject_invites(peer)

    # Invitations to rooms (SupportsInvitations)

    async def answer_invitation(self, room: str, accept: bool) -> ConversationKey | None:
        """Joins (``accept``) or declines the pending invitation to ``room`` (a room id). An invitation to
        a direct chat is answered as its contact request; the conversation joined is returned, if any."""
        self._session.require_client()
        pending = self._direct.invitation_of(room)
        if pending is not None and pending[1]:
            await self.answer_subscription(pending[0], accept)
            return ConversationKey.direct(self._account_id, pending[0]) if accept else None
        if not is_room_id(room):
            raise ConfigurationError(f"{room!r} is not a room id")
        return await self._direct.answer_room(room, accept)

    # Blocking (SupportsBlocking): the account's ignore list

    async def block(self, handle: str) -> None:
        """Ignores ``handle`` from now on and declines what they invited us to and is still pending."""
        peer = normalize_address(handle)
        await self._ignored.change(peer, ignore=True)
        await self._direct.decline_all_from(peer)

    async def unblock(self, handle: str) -> None:
        await self._ignored.change(normalize_address(handle), ignore=False)

    async def blocked(self) -> tuple[str, ...]:
        self._session.require_client()
        return await self._ignored.listed()

    # Device trust (end-to-end encryption)

    def device_ids(self, handle: str) -> list[str]:
        """The ids of the known (not deleted) encryption devices of ``handle``."""
        return self._devices.device_ids(handle)

    def set_device_trust(self, handle: str, device_id: str, trust: TrustLevel) -> None:
        """Marks one device of ``handle`` ``VERIFIED``, ``UNVERIFIED`` (neither verified nor blocked) or
        ``BLOCKED`` (kept in the crypto store), then reports the contact's trust if it changed."""
        self._devices.set_trust(handle, device_id, trust)

    # ------------------------------------------------------------------------------------ rooms

    def _known_room(self, conversation: ConversationKey) -> str | None:
        if conversation.kind is ConversationKind.ROOM:
            return conversation.handle
        return self._direct.known_room(conversation.handle)

    async def _room_for(self, conversation: ConversationKey) -> str:
        if conversation.kind is ConversationKind.ROOM:
            if not is_room_id(conversation.handle):
                raise ConfigurationError(f"{conversation.handle!r} is not a room id")
            return conversation.handle
        return await self._direct.room_of(normalize_address(conversation.handle))
