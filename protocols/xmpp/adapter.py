"""``XmppAdapter``: the ``Adapter`` for XMPP, on slixmpp. A thin shell: it builds the feature modules
of one account and routes the client's events and the core's calls to them.

- ``session.py``: who the account is, the event sink, the live client;
- ``lib.py``: the typed edge of slixmpp (the only module touching slixmpp's objects);
- ``connection.py``: connect, login failures, TLS/pin/plaintext checks, the loss of the stream;
- ``roster.py``, ``presence.py``: the roster and subscriptions; presence both ways;
- ``messages.py``: live, carbon and archived messages and bounces; ``corrections.py``: XEP-0308 ids;
- ``catchup.py`` (+ ``positions.py``): the archive (MAM) catch-up and history fetch;
- ``muc.py``: group chats; ``sending.py``: outbound messages and their acks;
- ``receipts.py``, ``chatstates.py``: delivery receipts and typing;
- ``mapping.py``: stanza XML -> typed values (no state, no I/O).

At login the roster is fetched, carbons enabled, presence sent, and then the own archive is caught up
(up to ``BACKFILL_BUDGET`` seconds before ``connect()`` returns; a longer catch-up goes on in the
background). Presence goes first because Prosody does not deliver offline storage to a session that
has queried MAM; this way the offline copies arrive too, with the same stanza-id as their MAM copy,
and the core keeps one of each. Then the rooms are rejoined.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime

from aggregator.api import (
    AccountId,
    AccountSettings,
    ConversationKey,
    ConversationKind,
    Credentials,
    EventSink,
    FileOffer,
    InvitedToRoom,
    OutgoingMessage,
    Presence,
    SendReceipt,
    UnsupportedError,
)
from protocols import http_files
from protocols.xmpp import catchup, mapping
from protocols.xmpp.addresses import normalize_handle
from protocols.xmpp.blocking import Blocking
from protocols.xmpp.catchup import Archives
from protocols.xmpp.chatstates import ChatStates
from protocols.xmpp.connection import CONNECT_TIMEOUT, Connection, Hooks
from protocols.xmpp.corrections import Corrections
from protocols.xmpp.lib import Client
from protocols.xmpp.messages import Inbound
from protocols.xmpp.muc import Rooms
from protocols.xmpp.presence import Presences
from protocols.xmpp.receipts import Receipts
from protocols.xmpp.roster import Roster
from protocols.xmpp.sending import Sender, peer_of
from protocols.xmpp.session import Session

log = logging.getLogger(__name__)

Guard = Callable[[str, Callable[[ET.Element], None]], Callable[[ET.Element], None]]


class XmppAdapter:
    """One XMPP account. Raises ``ConfigurationError`` for unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self._session = session = Session(settings, sink)
        self._connection = Connection(
            session, Hooks(register=self._register, set_up=self._set_up, ready=self._ready, dropped=self._dropped)
        )
        self._archives = Archives(
            session, lambda archive, result, position: self._inbound.emit_archived(archive, result, position)
        )
        self._rooms = Rooms(
            session, self._archives, lambda archive, stanza, event: self._inbound.emit_live(archive, stanza, event)
        )
        self._inbound = Inbound(session, self._archives, self._rooms, Corrections())
        self._presences = Presences(session)
        self._roster = Roster(session)
        self._sender = Sender(session, self._rooms)
        self._receipts = Receipts(session)
        self._chat_states = ChatStates(session)
        self._blocking = Blocking(session)

    @property
    def _account_id(self) -> AccountId:
        return self._session.account_id

    @property
    def _client(self) -> Client | None:
        return self._session.client

    # ------------------------------------------------------------------------ connection's turns

    def _register(self, client: Client, guard: Guard) -> None:
        handlers: dict[str, Callable[[ET.Element], None]] = {
            "stanza_acked": self._sender.on_stanza_acked,
            "message": self._on_message,
            "carbon_received": self._inbound.on_carbon,
            "carbon_sent": self._inbound.on_carbon,
            "chatstate": self._chat_states.on_chat_state,
            "receipt_received": self._receipts.on_receipt,
            "presence": self._on_presence,
            "presence_subscribe": self._roster.on_subscribe,
            "roster_update": self._roster.on_push,
            "message_error": self._inbound.on_message_error,
        }
        for event, handler in handlers.items():
            client.on_stanza(event, guard(event, handler))
        # Stanzas without a <body/> that slixmpp's "message" event does not cover:
        message = f"{{{mapping.NS_CLIENT}}}message"
        for name, path, stanza_handler in (
            ("aggregator archive results", f"{message}/{{{mapping.NS_MAM}}}result", self._archives.on_result),
            ("aggregator room subjects", f"{message}/{{{mapping.NS_CLIENT}}}subject", self._rooms.on_subject_message),
            ("aggregator direct invitations", f"{message}/{{{mapping.NS_CONFERENCE}}}x", self._on_invitation),
            (
                "aggregator mediated invitations",
                f"{message}/{{{mapping.NS_MUC_USER}}}x/{{{mapping.NS_MUC_USER}}}invite",
                self._on_invitation,
            ),
        ):
            client.on_xpath(name, path, guard(name, stanza_handler))

    async def _set_up(self, client: Client) -> None:
        self._archives.caught_up.clear()  # live messages carry positions only once the catch-up is complete
        self._roster.on_roster(await client.get_roster(timeout=CONNECT_TIMEOUT), snapshot=True)
        try:
            await client.enable_carbons(timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # a server without carbons is still usable
            log.info("%s: carbons not enabled: %r", self._account_id, exc)
        # Presence first, then the archive (see the module's docstring).
        self._inbound.hold_offline()
        self._presences.send_own(client)
        catch_up = self._session.spawn(self._catch_up(client), "archive catch-up")
        done, _ = await asyncio.wait({catch_up}, timeout=catchup.BACKFILL_BUDGET)
        if not done:
            log.info("%s: the archive catch-up goes on after the login", self._account_id)

    async def _catch_up(self, client: Client) -> None:
        """The own archive's catch-up, then the offline copies held while it ran."""
        try:
            await self._archives.catch_up(client)
        finally:
            self._inbound.release_offline()

    def _ready(self, client: Client) -> None:
        self._rooms.rejoin_all(client)

    def _dropped(self, unacked: Exception, error: Exception) -> None:
        self._sender.fail_acks(unacked)
        self._presences.clear()
        self._rooms.reset(error)
        self._archives.caught_up.clear()
        self._inbound.drop_held()

    def _on_message(self, stanza: ET.Element) -> None:
        if mapping.invitation_of(stanza) is None:  # an invitation's body is not a message (_on_invitation)
            self._inbound.on_message(stanza)

    def _on_invitation(self, stanza: ET.Element) -> None:
        """A room invitation (XEP-0249 direct, XEP-0045 mediated) is an ``InvitedToRoom``, not a message."""
        invitation = mapping.invitation_of(stanza)
        if invitation is None:
            return
        room, inviter, reason = invitation
        if self._rooms.get(room) is not None:
            return  # already there
        self._session.emit(
            InvitedToRoom(
                account_id=self._account_id,
                room=room,
                inviter=inviter or mapping.sender_of(stanza).bare,
                reason=reason,
            )
        )

    def _on_presence(self, stanza: ET.Element) -> None:
        sender = mapping.sender_of(stanza)
        room = self._rooms.get(sender.bare)
        if room is not None:
            self._rooms.on_presence(room, stanza, sender)
        else:
            self._presences.on_presence(stanza, sender)

    # ------------------------------------------------------------------------------ the Adapter

    async def connect(self, credentials: Credentials) -> None:
        await self._connection.connect(credentials)

    async def disconnect(self) -> None:
        await self._connection.close(polite=True)

    def resume_from(self, positions: Mapping[str, str]) -> None:
        """``SupportsResume``: the positions the core stored with their messages; the next connect's
        catch-up of each archive starts there."""
        self._archives.resume_from(positions)

    async def set_presence(self, presence: Presence) -> None:
        self._presences.set_own(presence)

    async def set_typing(self, conversation: ConversationKey, typing: bool) -> None:
        self._session.ready_client()
        self._chat_states.set_typing(peer_of(conversation), typing)

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        return await self._sender.send(conversation, message)

    # Files (SupportsFiles): XEP-0363 uploads go out with send_message; links are fetched over HTTPS.

    def download(self, offer: FileOffer) -> AsyncIterator[bytes]:
        if offer.encrypted:
            raise UnsupportedError("this file is end-to-end encrypted (OMEMO); this client cannot open it yet")
        return http_files.download(
            offer.url, self._session.file_tls(), allow_http=self._session.settings.allow_plaintext
        )

    def max_upload_bytes(self) -> int | None:
        return self._sender.uploads.max_bytes

    async def fetch_history(self, conversation: ConversationKey, after: datetime | None, limit: int) -> int:
        """Emits up to ``limit`` archived messages of ``conversation`` (``is_backfill``), oldest first:
        those after ``after``, or the newest ones without it. Returns how many were emitted.
        The catch-up position is not touched."""
        client = self._session.ready_client()
        if limit <= 0:
            return 0
        if conversation.kind is ConversationKind.ROOM:
            archive, with_jid = self._rooms.joined(conversation).jid, None
        else:
            archive, with_jid = self._session.own.bare, peer_of(conversation).bare
        return await self._archives.fetch(client, archive, with_jid, after, limit)

    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey:
        """Joins ``room`` (``room@service``) as ``nick``; returns once the room's history has arrived."""
        return await self._rooms.join(room, nick)

    async def leave_room(self, room: ConversationKey) -> None:
        await self._rooms.leave(room)

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        """Sets the room's subject; returns once the room has accepted it (raises ``ProtocolError`` if not)."""
        await self._rooms.set_topic(room, topic)

    async def add_contact(self, handle: str, name: str | None = None, groups: tuple[str, ...] = ()) -> None:
        await self._roster.add(handle, name, groups)

    async def remove_contact(self, handle: str) -> None:
        await self._roster.remove(handle)

    async def answer_subscription(self, handle: str, accept: bool) -> None:
        await self._roster.answer_subscription(handle, accept)

    # SupportsBlocking: XEP-0191 (blocking.py)

    async def block(self, handle: str) -> None:
        await self._blocking.block(handle)

    async def unblock(self, handle: str) -> None:
        await self._blocking.unblock(handle)

    async def blocked(self) -> tuple[str, ...]:
        return await self._blocking.blocked()

    async def answer_invitation(self, room: str, accept: bool) -> ConversationKey | None:
        """``SupportsInvitations``: XEP-0249 has no answer to send; accepting names the room, which the core
        joins (``join_room``), declining sends nothing."""
        self._session.ready_client()
        if not accept:
            return None
        return ConversationKey.room(self._account_id, normalize_handle(room))
