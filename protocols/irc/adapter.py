"""``IrcAdapter``: the ``Adapter`` (and ``SupportsGroupChat``) for one IRC account.

Translates between ``aggregator.api`` and the sans-I/O ``IrcClient`` events; ``IrcConnection`` moves
the bytes. Channels are ``ConversationKey.room("#chan")``, queries ``ConversationKey.direct(nick)``,
both casefolded per the server's CASEMAPPING.

Login: SASL EXTERNAL with the account's client certificate when the server offers it, else SCRAM-SHA-256
or PLAIN with the password (the next one when one is refused), as the account name (option
``sasl_account``) or the nick; a login that cannot go on ends with a QUIT that says why. IRCv3 STS
policies (``sts.py``) are honoured: see ``connect``. Sending: see ``send_message`` (a message counts as
sent once the server has proved it had it) and ``docs/irc.md``. History: IRCv3 CHATHISTORY when the server
offers it (after each JOIN, and ``fetch_history``), reported as backfill; the newest server time seen per
conversation is kept in the data directory (written after each history batch and on disconnect, so a
crash costs at most a larger, deduplicated catch-up). InspIRCd 3 has no CHATHISTORY: its replay on JOIN
comes as a ``chathistory`` batch too and takes the same path. Contacts and blocking are client-side
(``contacts.py``): contacts' presence through MONITOR (ISON polling where the server has none), and
nothing of an ignored nick (messages, notices, invitations, presence) reaches the core. An INVITE to a
channel is ``InvitedToRoom``; ``answer_invitation`` joins it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aggregator.api import (
    AccountSettings,
    AdapterEvent,
    AdapterWarning,
    AuthenticationError,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    ConversationKind,
    Credentials,
    EventSink,
    FileOffer,
    InvitedToRoom,
    MessageKind,
    MessageReceived,
    NetworkError,
    NotConnectedError,
    OutgoingMessage,
    PlaintextRefusedError,
    PositionReached,
    Presence,
    PresenceChanged,
    PresenceKind,
    ProtocolError,
    ResumePosition,
    RoomJoined,
    RoomLeft,
    RoomMembers,
    RoomTopic,
    RosterItem,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    SendReceipt,
    TimestampPrecision,
    UnsupportedError,
)
from protocols import http_files
from protocols.irc import events as ev
from protocols.irc.addresses import normalize_address, normalize_handle, parse_server
from protocols.irc.client import IrcClient, parse_time
from protocols.irc.connection import IrcConnection
from protocols.irc.contacts import ISON_INTERVAL, ContactList
from protocols.irc.decoding import DEFAULT_FALLBACK, check_encoding
from protocols.irc.members import ChannelMembers
from protocols.irc.message import IrcMessage
from protocols.irc.params import InvalidTarget
from protocols.irc.sts import STS_FILE, StsStore
from protocols.irc.transfers import Transfers, file_links

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0
REPLY_TIMEOUT = 30.0
#: Seconds without any line from the server after a PING before the connection counts as lost. A server
#: that froze for less than this and wakes up again keeps the connection (and sends nothing twice).
LAG_TIMEOUT = 60.0
_SAFE_LABEL = re.compile(r"[A-Za-z0-9._:+/-]{1,48}", re.ASCII)
#: Malformed lines reported as warnings per connection (the rest are only counted).
MALFORMED_WARNINGS = 10
#: Malformed lines in a row after which a registered connection is dropped: the peer is not IRC (any more).
MALFORMED_IN_A_ROW = 100
#: File in the account's data directory listing the msgids of continuation lines we sent (see below).
CONTINUATIONS_FILE = "irc-continuation-msgids"
#: How many continuation msgids are remembered (the channel replay of InspIRCd holds 50 lines a channel).
CONTINUATIONS_KEPT = 5000
#: What earlier versions kept in the account's data directory: the newest server time seen per channel
#: (CHATHISTORY), written before the messages were stored. Read as a fallback while the core holds no
#: position of that channel; the core's positions (stream ``HISTORY_STREAM`` + channel) replace it.
LAST_SEEN_FILE = "irc-chathistory-last-seen.json"
HISTORY_STREAM = "chathistory:"
#: Messages asked for with CHATHISTORY after a JOIN (the server may allow fewer).
HISTORY_ON_JOIN = 100
#: How long a JOIN waits for its CHATHISTORY reply (the channel is joined either way).
HISTORY_WAIT = 10.0


def _checked(build: Callable[[], list[IrcMessage]]) -> list[IrcMessage]:
    """The lines ``build`` makes, or ``ProtocolError`` when a name in them cannot be put in a line."""
    try:
        return build()
    except InvalidTarget as exc:
        raise ProtocolError(str(exc)) from None


def label_for(key: str) -> str:
    """A labeled-response label for an idempotency key (the key itself when short and plain)."""
    if _SAFE_LABEL.fullmatch(key):
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(slots=True)
class _Proof:
    """What the server said about one sent message before the PONG that follows it."""

    labels: frozenset[str]
    first_label: str | None
    target: str  # casefolded
    first_text: str | None = None  # echo-message without labels: the echo of the first line is this text
    echo: ev.Message | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Echo:
    """A line of ours whose echo (``echo-message`` without ``labeled-response``) is still to come."""

    target: str  # casefolded
    text: str
    key: str
    first: bool


@dataclass(slots=True)
class _Waiter:
    match: Callable[[ev.Event], object | None]
    future: asyncio.Future[object]


class IrcAdapter:
    """One account on an IRC network. Raises ``ConfigurationError`` for unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self._settings = settings
        self._sink = sink
        self._account_id = settings.account_id
        self._nick = normalize_address(settings.address)
        self._host, self._port = parse_server(settings.server)
        options = settings.options
        try:
            self._encoding = check_encoding(options.get("encoding", "").strip() or DEFAULT_FALLBACK)
        except LookupError:
            raise ConfigurationError(f"unknown fallback encoding {options.get('encoding')!r}") from None
        self._realname = options.get("realname", "").strip()
        self._client_cert = (
            Path(options["client_cert"].strip()).expanduser() if options.get("client_cert", "").strip() else None
        )
        self._client_key = (
            Path(options["client_key"].strip()).expanduser() if options.get("client_key", "").strip() else None
        )
        if self._client_key is not None and self._client_cert is None:
            raise ConfigurationError("a client key needs a client certificate (client_cert)")
        if self._client_cert is not None and settings.allow_plaintext:
            raise ConfigurationError("a client certificate (SASL EXTERNAL) needs TLS; turn off plaintext")
        self.lag_interval = float(options.get("lag_interval", "") or 30)
        self.lag_timeout = float(options.get("lag_timeout", "") or LAG_TIMEOUT)
        self._client: IrcClient | None = None
        self._connection: IrcConnection | None = None
        self._waiters: list[_Waiter] = []
        self._labels: dict[str, str] = {}  # label we sent -> idempotency key
        self._connected = False
        self._whois_asked: set[str] = set()
        self._members = ChannelMembers()
        self._malformed = 0  # on this connection
        self._malformed_in_a_row = 0
        # A long message goes out as several lines; the core stores it once, as the pending row, and the
        # echo of the first line confirms that row. The echoes of the other lines ("continuations",
        # labels ``<key>.1``, ``<key>.2``...) are not reported, and their msgids are kept (in the data
        # directory, so across restarts) to drop the same lines when a channel replay brings them back.
        self._continuation_labels: set[str] = set()
        self._echoes: list[_Echo] = []  # unlabelled echoes still expected, in the order the lines went out
        self._continuation_path = settings.data_dir / CONTINUATIONS_FILE if settings.data_dir else None
        self._continuations = self._load_continuations()
        # CHATHISTORY: the newest server time seen per channel (casefolded), a catch-up position
        # (``SupportsResume``) that the core stores with the message carrying it and hands back before
        # each connect, so that a JOIN after a restart asks only for what came since.
        self._last_seen_path = settings.data_dir / LAST_SEEN_FILE if settings.data_dir else None
        self._last_seen = self._load_last_seen()
        self._history_pending: set[str] = set()  # channels whose JOIN history is being fetched
        self._caught_up: set[str] = set()  # channels whose JOIN history is complete on this connection
        self._paged_from: dict[str, datetime] = {}  # channel -> the time its last history page started at
        self._history_labels = itertools.count(1)
        self._sts = StsStore(settings.data_dir / STS_FILE if settings.data_dir else None)
        self._sts_duration: int | None = None  # of the policy the current (TLS) connection announced
        self._current_port = self._port  # the port of the last connection (another one after an STS upgrade)
        self._upgrade_to: int | None = None  # STS port announced after registration on a plaintext connection
        self._sasl_account = options.get("sasl_account", "").strip() or self._nick
        if any(not c.isprintable() for c in self._sasl_account):
            raise ConfigurationError("the IRC account name contains a control character")
        self._proof_tokens = itertools.count(1)
        self._history_joins: dict[str, asyncio.Future[object]] = {}  # folded channel -> its history reply
        self._contacts = ContactList(settings.data_dir, settings.account_id)
        self._ison_interval = float(options.get("ison_interval", "") or ISON_INTERVAL)
        self._ison_task: asyncio.Task[None] | None = None
        self._ison_asked: list[set[str]] = []  # the nicks of each ISON line still unanswered, in order
        self._invites: dict[str, str] = {}  # folded channel -> who invited us, while unanswered
        self._transfers = Transfers(
            settings.account_id,
            self._emit,
            self._send_ctcp,
            lambda: self._connection.local_address if self._connection is not None else None,
            self._handle,
        )
        self._dcc_passive = options.get("dcc_passive", "").strip().lower() in ("1", "true", "yes")

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._current_port}"

    # -------------------------------------------------------------------------------- connection

    async def connect(self, credentials: Credentials) -> None:
        """Connects and registers. With an STS policy in force for the host, only TLS is used (on the
        policy's port when the account says plaintext); a plaintext server that announces STS is left at
        once for TLS on the port it names, with no way back to plaintext."""
        if self._connected:
            return
        await self.disconnect()
        policy = self._sts.get(self._host)
        # A pinned certificate is only ever checked over TLS, so a pin forces TLS even where plaintext is allowed.
        plaintext = self._settings.allow_plaintext and policy is None and self._settings.pinned_certificate is None
        port = policy.port if policy is not None and self._settings.allow_plaintext else self._port
        upgrade_to, self._upgrade_to = self._upgrade_to, None
        if upgrade_to is not None and plaintext:  # announced (CAP NEW) on the last plaintext connection
            plaintext, port = False, upgrade_to
        if policy is not None and self._settings.allow_plaintext:
            log.info("%s: STS policy for %s: TLS on port %d", self._account_id, self._host, port)
        try:
            upgrade = await self._register(credentials, use_tls=not plaintext, port=port)
        except PlaintextRefusedError:
            if policy is None:
                raise
            raise PlaintextRefusedError(
                f"{self._host}:{port} does not speak TLS, but the server's STS policy requires TLS until "
                f"{policy.expires:%Y-%m-%d %H:%M} UTC; plaintext is refused until then"
            ) from None
        if upgrade is not None:
            log.info("%s: %s asks for TLS (STS): reconnecting to port %d", self._account_id, self._where, upgrade)
            if await self._register(credentials, use_tls=True, port=upgrade) is not None:
                raise ProtocolError(f"{self._host}:{upgrade} asked for an STS upgrade on a TLS connection")
        self._connected = True
        assert self._client is not None
        log.info("%s connected to %s as %s", self._account_id, self._where, self._client.nick)
        self._watch_contacts()

    async def _register(self, credentials: Credentials, *, use_tls: bool, port: int) -> int | None:
        """One connection up to the end of registration; returns the STS upgrade port if the server asks
        for one (that connection is then closed). A refused login ends with a QUIT that says why."""
        client = IrcClient(
            self._nick, realname=self._realname, password=credentials.password or None,
            sasl_account=self._sasl_account, sasl_external=self._client_cert is not None,
            encoding_fallback=self._encoding, secure=use_tls,
        )  # fmt: skip
        connection = IrcConnection(
            client, self._host, port, on_events=self._on_events, on_closed=self._on_closed,
            use_tls=use_tls, ca_file=self._settings.ca_file, pinned_certificate=self._settings.pinned_certificate,
            client_cert=self._client_cert, client_key=self._client_key,
            lag_interval=self.lag_interval, lag_timeout=self.lag_timeout,
        )  # fmt: skip
        self._client, self._connection = client, connection
        self._sts_duration, self._current_port = None, port
        self._malformed = self._malformed_in_a_row = 0
        self._members.clear()
        registered = self._expect(self._match_registration)
        try:
            await connection.open()
            connection.send(client.start())
            async with asyncio.timeout(CONNECT_TIMEOUT):
                result = await registered
        except TimeoutError:
            await self._close("registration timed out")
            raise NetworkError(f"{self._where} did not finish the registration within {CONNECT_TIMEOUT:g} s") from None
        except AuthenticationError:
            await self._close("SASL authentication failed")
            raise
        except ProtocolError:
            await self._close("registration failed")
            raise
        except BaseException:
            await self._close(None)
            raise
        if isinstance(result, ev.StsUpgrade):
            await self._close("STS: reconnecting with TLS")
            return result.port
        return None

    def _match_registration(self, event: ev.Event) -> object | None:
        if isinstance(event, ev.Registered | ev.StsUpgrade):
            return event
        if isinstance(event, ev.SaslFailed):
            return AuthenticationError(f"{self._where} refused the login of {self._sasl_account}: {event.reason}")
        if isinstance(event, ev.RegistrationFailed):
            return ProtocolError(event.reason)
        if isinstance(event, ev.ServerError):
            return NetworkError(f"{self._where} closed the connection: {event.text}")
        if isinstance(event, ev.Malformed):  # before registration: this is not an IRC server
            return ProtocolError(f"{self._where} does not speak IRC: {event.reason}")
        return None

    async def disconnect(self) -> None:
        await self._close(None)

    async def _close(self, quit_reason: str | None) -> None:
        """Closes the connection: with a QUIT once registered, or with ``quit_reason`` before (a polite end
        instead of a dropped connection when the login cannot go on)."""
        self._connected = False
        connection, self._connection = self._connection, None
        client = self._client
        self._fail_waiters(NotConnectedError(f"{self._account_id} disconnected"))
        self._labels.clear()
        self._continuation_labels.clear()
        self._echoes.clear()
        self._whois_asked.clear()
        self._history_joins.clear()
        self._history_pending.clear()
        self._caught_up.clear()
        self._stop_ison()
        self._renew_sts(connection)
        if connection is not None:
            quit_line = None
            if client is not None and (client.registered or quit_reason is not None):
                quit_line = client.quit(quit_reason or "")[0]
            try:
                await connection.close(quit_line)
            except Exception:
                log.exception("%s: closing the connection failed", self._account_id)

    def _renew_sts(self, connection: IrcConnection | None) -> None:
        """An STS policy counts its duration again from the end of a connection that announced it."""
        duration, self._sts_duration = self._sts_duration, None
        if connection is not None and duration is not None:
            self._sts.remember(self._host, self._current_port, duration)

    def _on_closed(self, reason: str) -> None:
        self._fail_waiters(NetworkError(f"{reason} before the server answered"))
        self._stop_ison()
        self._renew_sts(self._connection)
        self._history_joins.clear()
        self._history_pending.clear()
        self._caught_up.clear()
        if self._connected:
            self._connected = False
            log.info("%s: %s", self._account_id, reason)
            self._emit(ConnectionLost(account_id=self._account_id, reason=reason, retryable=True))

    # ------------------------------------------------------------------------------------ waiters

    def _expect(self, match: Callable[[ev.Event], object | None]) -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(match, future))
        return future

    def _fail_waiters(self, error: Exception) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(error)
                waiter.future.exception()  # nobody may be waiting any more: mark it retrieved

    async def _await(self, future: asyncio.Future[object], what: str) -> object:
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                return await future
        except TimeoutError:
            raise NetworkError(f"{self._where} did not answer {what} within {REPLY_TIMEOUT:g} s") from None
        finally:
            self._waiters = [w for w in self._waiters if w.future is not future]

    # ----------------------------------------------------------------------------------- events

    def _on_events(self, events: Sequence[ev.Event]) -> None:
        for event in events:
            if isinstance(event, ev.Malformed):
                self._malformed += 1
                self._malformed_in_a_row += 1
                if self._malformed_in_a_row >= MALFORMED_IN_A_ROW and self._connection is not None:
                    reason = f"{self._where} sent {self._malformed_in_a_row} lines in a row that are not IRC"
                    self._connection.abort(reason)
                    return
            else:
                self._malformed_in_a_row = 0
            try:
                self._dispatch_waiters(event)
                self._translate(event)
            except Exception as exc:  # whatever the server sends, the adapter keeps running
                log.exception("%s: could not handle %s", self._account_id, type(event).__name__)
                self._warn(f"could not handle a line from {self._where}: {exc!r}")

    def _dispatch_waiters(self, event: ev.Event) -> None:
        for waiter in list(self._waiters):
            if waiter.future.done():
                continue
            result = waiter.match(event)
            if result is None:
                continue
            if isinstance(result, BaseException):
                waiter.future.set_exception(result)
            else:
                waiter.future.set_result(result)
        self._waiters = [w for w in self._waiters if not w.future.done()]

    def _handle(self, name: str) -> str:
        assert self._client is not None
        return self._client.casefold(name)

    def _chan(self, name: str) -> str:
        """``name`` without STATUSMSG prefixes (``@#chan``) when that makes it a channel."""
        assert self._client is not None
        stripped = name.lstrip(self._client.prefix_chars)
        return stripped if self._client.is_channel(stripped) else name

    def _translate(self, event: ev.Event) -> None:
        client = self._client
        if isinstance(event, ev.LoggedIn):  # comes before the registration ends
            log.info("%s: logged in as %s (SASL %s)", self._account_id, event.account, event.mechanism or "-")
            return
        if isinstance(event, ev.StsUpgrade) and client is not None and client.registered and self._connection:
            # CAP NEW sts after registration (before it, the registration itself takes the upgrade)
            self._upgrade_to = event.port
            self._connection.abort(f"{self._where} asks for TLS (STS): reconnecting to port {event.port}")
            return
        if isinstance(event, ev.StsPolicy):  # only ever on TLS (the client)
            self._sts_duration = event.duration or None
            self._sts.remember(self._host, self._current_port, event.duration)
            return
        if client is None or not client.registered:
            if isinstance(event, ev.Malformed):
                self._warn_malformed(event)
            return
        account = self._account_id
        if isinstance(event, ev.Message):
            self._on_message(event)
        elif isinstance(event, ev.DccRequest):
            if self._handle(event.source) not in self._contacts.ignored:
                self._transfers.on_request(event)
        elif isinstance(event, ev.Joined):
            room = ConversationKey.room(account, self._handle(event.channel))
            if not event.is_self:
                self._members_changed(self._members.joined(room.handle, self._handle(event.nick)))
            if event.is_self:
                self._emit(RoomJoined(account_id=account, conversation=room, nick=self._handle(event.nick)))
                self._send(client.who(event.channel))
                if client.supports_chathistory:
                    self._caught_up.discard(room.handle)
                    self._history_pending.add(room.handle)
                    self._history_joins[room.handle] = self._request_history(
                        event.channel, self._last_seen.get(room.handle), HISTORY_ON_JOIN
                    )
        elif isinstance(event, ev.Names):
            room = ConversationKey.room(account, self._handle(event.channel))
            self._members_changed(self._members.names(room.handle, tuple(self._handle(m) for m in event.members)))
        elif isinstance(event, ev.Topic):
            room = ConversationKey.room(account, self._handle(event.channel))
            set_by = self._handle(event.set_by) if event.set_by else None
            self._emit(RoomTopic(account_id=account, conversation=room, topic=event.topic, set_by=set_by))
        elif isinstance(event, ev.Parted | ev.Kicked) and not event.is_self:
            self._members_changed(self._members.left(self._handle(event.channel), self._handle(event.nick)))
        elif isinstance(event, ev.Parted | ev.Kicked) and event.is_self:
            room = ConversationKey.room(account, self._handle(event.channel))
            self._members.we_left(room.handle)
            reason = event.reason if isinstance(event, ev.Parted) else f"kicked by {event.by}: {event.reason}"
            self._emit(RoomLeft(account_id=account, conversation=room, reason=reason))
        elif isinstance(event, ev.Away) and not client.is_me(event.nick):
            presence = Presence(PresenceKind.AWAY, event.message) if event.message else Presence(PresenceKind.AVAILABLE)
            self._presence(self._handle(event.nick), presence)
        elif isinstance(event, ev.WhoReply) and event.away and not client.is_me(event.nick):
            handle = self._handle(event.nick)
            if handle not in self._whois_asked:  # WHO tells only "away"; WHOIS gives the message
                self._whois_asked.add(handle)
                self._send(client.whois(event.nick))
        elif isinstance(event, ev.NickChanged):
            self._members_changed(self._members.renamed(self._handle(event.old), self._handle(event.new)))
        elif isinstance(event, ev.Quit) and not client.is_me(event.nick):
            self._members_changed(self._members.quit(self._handle(event.nick)))
            self._contacts.went_offline([self._handle(event.nick)])
            self._presence(self._handle(event.nick), Presence.offline())
        elif isinstance(event, ev.Online | ev.Offline | ev.MonitorListFull | ev.Invited):
            self._on_contact_event(event)
        elif isinstance(event, ev.Malformed):
            self._warn_malformed(event)
        elif isinstance(event, ev.ErrorReply) and event.label is None:
            log.info("%s: %s says %s %s", account, self._where, event.code, event.text)

    def _members_changed(self, channels: list[str]) -> None:
        for channel in channels:
            room = ConversationKey.room(self._account_id, channel)
            self._emit(
                RoomMembers(account_id=self._account_id, conversation=room, members=self._members.members(channel))
            )

    def _on_message(self, event: ev.Message) -> None:
        if "!" not in event.raw.source_or_empty:
            return  # a server notice
        target = self._chan(event.target)
        assert self._client is not None
        if not event.is_echo and self._handle(event.source) in self._contacts.ignored:
            folded = self._handle(target) if self._client.is_channel(target) else self._handle(event.source)
            position = self._position(folded, event)
            if position is not None:  # dropped, but the catch-up goes past it
                self._emit(PositionReached(account_id=self._account_id, position=position))
            return
        if self._client.is_channel(target):
            conversation = ConversationKey.room(self._account_id, self._handle(target))
        else:
            peer = event.target if event.is_echo else event.source
            conversation = ConversationKey.direct(self._account_id, self._handle(peer))
        kind = MessageKind.NOTICE if event.command == "NOTICE" else MessageKind.CHAT
        if event.action:
            kind = MessageKind.ACTION
        key = self._labels.pop(event.label, None) if event.is_echo and event.label else None
        position = self._position(conversation.handle, event)
        if event.is_echo and self._is_continuation(event):
            if position is not None:
                self._emit(PositionReached(account_id=self._account_id, position=position))
            return
        if event.is_echo and event.label is None and self._echoes:
            head = self._echoes[0]
            if head.target == self._handle(event.target) and head.text == event.text:
                self._echoes.pop(0)
                if not head.first:  # a continuation line of a split message: the row has the whole body
                    if event.msgid:
                        self._remember_continuation(event.msgid)
                    return
                key = head.key
        self._emit(
            MessageReceived(
                account_id=self._account_id,
                conversation=conversation,
                sender=self._handle(event.source),
                body=event.text,
                server_id=event.msgid,
                timestamp=event.time,
                timestamp_precision=TimestampPrecision.of_stamp(event.time),  # history replays: whole seconds
                kind=kind,
                is_backfill=event.batch_type == "chathistory",
                is_own_echo=event.is_echo,
                idempotency_key=key,
                sender_name=event.source,
                position=position,
                files=file_links(event.text),
            )
        )

    def _position(self, folded: str, event: ev.Message) -> ResumePosition | None:
        """The channel's new last-seen time, when ``event`` moves it without leaving a gap: a message of
        the JOIN history while it is being fetched, or a live one once it is complete."""
        if event.time is None or self._client is None or not self._client.supports_chathistory:
            return None
        backfill = event.batch_type == "chathistory"
        if not (folded in self._history_pending if backfill else folded in self._caught_up):
            return None
        if not self._saw(folded, event.time):
            return None
        return ResumePosition(HISTORY_STREAM + folded, event.time.isoformat())

    def resume_from(self, stored: Mapping[str, str]) -> None:
        """``SupportsResume``: the last-seen times the core stored with their messages; channels it has
        none for fall back to what an earlier version left in the data dir (removed once unneeded)."""
        seen: dict[str, datetime] = {}
        for stream, value in stored.items():
            when = parse_time(value) if stream.startswith(HISTORY_STREAM) else None
            if when is not None:
                seen[stream[len(HISTORY_STREAM) :]] = when
        legacy = self._load_last_seen()
        self._last_seen = {**legacy, **seen}
        if legacy and set(legacy) <= set(seen) and self._last_seen_path is not None:
            with contextlib.suppress(OSError):
                self._last_seen_path.unlink()

    # ----------------------------------------------------------------------------------- actions

    def _require(self) -> tuple[IrcClient, IrcConnection]:
        if not self._connected or self._client is None or self._connection is None or not self._connection.is_open:
            raise NotConnectedError(f"{self._account_id} is not connected")
        return self._client, self._connection

    def _send(self, lines: list[Any]) -> None:
        if self._connection is not None:
            self._connection.send(lines)

    def _send_ctcp(self, nick: str, body: str) -> None:
        client, connection = self._require()
        connection.send(client.ctcp(nick, body))

    # Files (SupportsFiles): DCC SEND both ways, links to files fetched over HTTPS; no server storage.

    def download(self, offer: FileOffer) -> AsyncIterator[bytes]:
        return self._transfers.download(offer, http_files.tls_for(self._settings.ca_file, None))

    def max_upload_bytes(self) -> int | None:
        return None

    async def set_presence(self, presence: Presence) -> None:
        client, connection = self._require()
        if presence.kind in (PresenceKind.AWAY, PresenceKind.EXTENDED_AWAY, PresenceKind.BUSY):
            connection.send(client.away(presence.status or presence.kind.value))
        elif presence.kind in (PresenceKind.AVAILABLE, PresenceKind.INVISIBLE):
            connection.send(client.away(None))

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        """Sends ``message`` and returns once the server has provably processed it.

        The lines go out followed by a PING with a token of their own. A server processes a client's
        lines in order, so its PONG proves that it had the message (an error about it, such as "no such
        nick", comes before the PONG and fails the message). With ``echo-message`` and
        ``labeled-response`` the echo of the first line also proves it and gives the server's msgid.
        There is no timeout of its own: the message's fate is the connection's. If the connection is
        lost before the proof, ``NetworkError`` leaves it pending, and the core sends it again after the
        reconnect (the server may then have had it: at most the one message in flight). A connection
        that is only slow (a server frozen for less than the lag timeout) is waited for: nothing twice.

        A target no IRC line can carry (space, comma, CR, LF, NUL, leading ``:``...) is refused at once
        with ``ProtocolError`` (a permanent failure: nothing was sent, nothing is retried)."""
        client, connection = self._require()
        target = conversation.handle
        if message.file is not None:
            if message.body.strip():  # the caption first, as an ordinary message
                caption = OutgoingMessage(body=message.body, idempotency_key=f"{message.idempotency_key}.caption")
                await self.send_message(conversation, caption)
            await self._transfers.send(conversation, message.file, message.idempotency_key, passive=self._dcc_passive)
            return SendReceipt(remote_id=None, timestamp=datetime.now(UTC))
        if conversation.kind is ConversationKind.ROOM and not client.is_channel(target):
            raise ProtocolError(f"{target!r} is not a channel name on {self._where}")
        base = label_for(message.idempotency_key)
        try:
            lines = client.privmsg(
                target, message.body, label=base,
                action=message.kind is MessageKind.ACTION, notice=message.kind is MessageKind.NOTICE,
            )  # fmt: skip
        except InvalidTarget as exc:
            raise ProtocolError(f"{exc}; the message was not sent") from None
        if not lines:
            raise ProtocolError("an empty message cannot be sent on IRC")
        labels = [line.tags["label"] for line in lines if "label" in line.tags]
        echoed = "echo-message" in client.enabled_caps and len(labels) == len(lines)
        if echoed:
            for index, label in enumerate(labels):
                self._labels[label] = message.idempotency_key
                if index > 0:
                    self._continuation_labels.add(label)
        folded = self._handle(target)
        expected: list[_Echo] = []
        if "echo-message" in client.enabled_caps and not echoed:  # match the echoes by their text, in order
            for index, line in enumerate(lines):
                text = line.params[1]
                if message.kind is MessageKind.ACTION:
                    text = text.removeprefix("\x01ACTION ").removesuffix("\x01")
                expected.append(_Echo(folded, text, message.idempotency_key, index == 0))
            self._echoes.extend(expected)
        token = f"sent{next(self._proof_tokens)}"
        proof = _Proof(
            labels=frozenset(labels), first_label=labels[0] if echoed else None, target=folded,
            first_text=expected[0].text if expected else None,
        )  # fmt: skip
        future = self._expect(lambda event: self._match_proof(proof, token, event))
        try:
            connection.send([*lines, *client.ping(token)])
        except ValueError as exc:  # cannot happen after privmsg's checks: the last guard
            self._waiters = [w for w in self._waiters if w.future is not future]
            raise ProtocolError(f"the message cannot be put in an IRC line: {exc}") from None
        try:
            await future
        except NetworkError:
            if proof.echo is None:
                raise NetworkError(
                    f"the connection to {self._where} was lost before the server confirmed the message"
                ) from None
        finally:
            self._waiters = [w for w in self._waiters if w.future is not future]
            self._echoes = [e for e in self._echoes if e not in expected]
        if proof.error is not None:
            raise ProtocolError(f"{self._where} refused the message: {proof.error}")
        echo = proof.echo
        if echo is not None:
            return SendReceipt(remote_id=echo.msgid, timestamp=echo.time or datetime.now(UTC))
        return SendReceipt(remote_id=None, timestamp=datetime.now(UTC))

    def _match_proof(self, proof: _Proof, token: str, event: ev.Event) -> object | None:
        """Collects what the server says about a sent message; True at its PONG (or the echo, if it
        comes last because the server has no PONG for us: never, in practice)."""
        if isinstance(event, ev.Message) and event.is_echo and proof.first_label and event.label == proof.first_label:
            proof.echo = event
        elif (
            isinstance(event, ev.Message) and event.is_echo and event.label is None and proof.echo is None
            and proof.first_text is not None and event.text == proof.first_text
            and self._handle(event.target) == proof.target
        ):  # fmt: skip
            proof.echo = event
        elif isinstance(event, ev.ErrorReply) and proof.error is None:
            if event.label is not None and event.label in proof.labels:
                proof.error = f"{event.text} ({event.code})"
            elif event.label is None and not proof.labels:
                about = event.text.split(" ", 1)[0]
                if about and self._handle(about) == proof.target:
                    proof.error = f"{event.text} ({event.code})"
        elif isinstance(event, ev.Pong) and event.token == token:
            return True
        return None

    # ------------------------------------------------------------------------------ continuations

    def _is_continuation(self, event: ev.Message) -> bool:
        """Whether ``event`` (our echo) is a continuation line of a split message; remembers it if new."""
        if event.label is not None and event.label in self._continuation_labels:
            self._continuation_labels.discard(event.label)
            if event.msgid:
                self._remember_continuation(event.msgid)
            return True
        return event.msgid is not None and event.msgid in self._continuations

    def _load_continuations(self) -> dict[str, None]:
        path = self._continuation_path
        if path is None:
            return {}
        try:
            ids = path.read_text(encoding="utf-8", errors="replace").split()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("%s: cannot read %s: %s", self._account_id, path, exc)
            return {}
        kept = dict.fromkeys(ids[-CONTINUATIONS_KEPT:])
        if len(ids) > 2 * CONTINUATIONS_KEPT:
            self._write_continuations(kept)
        return kept

    def _write_continuations(self, ids: dict[str, None]) -> None:
        path = self._continuation_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text("".join(f"{msgid}\n" for msgid in ids), encoding="utf-8")
            temporary.replace(path)
        except OSError as exc:
            log.warning("%s: cannot write %s: %s", self._account_id, path, exc)

    def _remember_continuation(self, msgid: str) -> None:
        msgid = "".join(msgid.split())  # one per line
        if not msgid or msgid in self._continuations:
            return
        self._continuations[msgid] = None
        while len(self._continuations) > CONTINUATIONS_KEPT:
            del self._continuations[next(iter(self._continuations))]
        path = self._continuation_path
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as file:
                file.write(msgid + "\n")
        except OSError as exc:
            log.warning("%s: cannot write %s: %s", self._account_id, path, exc)

    # ---------------------------------------------------------------------------- CHATHISTORY

    async def fetch_history(self, conversation: ConversationKey, after: datetime | None, limit: int) -> int:
        """Asks the server (IRCv3 CHATHISTORY) for up to ``limit`` messages of ``conversation``: those after
        ``after`` (oldest first), or the newest ones without it. They are reported as backfill, like the
        history after a JOIN. Returns how many the server sent. ``UnsupportedError`` when the server has
        no CHATHISTORY (InspIRCd 3 has none: there, a JOIN replays the channel's last lines instead)."""
        client, _ = self._require()
        if not client.supports_chathistory:
            raise UnsupportedError(f"{self._where} offers no CHATHISTORY")
        if limit <= 0:
            return 0
        result = await self._await(self._request_history(conversation.handle, after, limit), "CHATHISTORY")
        assert isinstance(result, int)
        return result

    def _request_history(self, target: str, after: datetime | None, limit: int) -> asyncio.Future[object]:
        """Sends CHATHISTORY for ``target``: AFTER ``after``, or LATEST without it (after a JOIN, ``after`` is
        the last time seen there). The future gives the number of messages once the batch has ended."""
        client, connection = self._require()
        folded = self._handle(target)
        since = after
        label = f"~h{next(self._history_labels)}"  # "~" never occurs in labels of messages (label_for)
        labeled = "labeled-response" in client.enabled_caps

        def match(event: ev.Event) -> object | None:
            if isinstance(event, ev.HistoryEnd) and (
                event.label == label if labeled else self._handle(event.target) == folded
            ):
                return event.count
            if isinstance(event, ev.ErrorReply) and (
                event.label == label if labeled else event.code.startswith("FAIL CHATHISTORY")
            ):
                return ProtocolError(f"{self._where} refused CHATHISTORY for {target}: {event.text} ({event.code})")
            return None

        if since is not None:
            lines = _checked(lambda: client.chathistory_after(target, since, limit, label=label))
        else:
            lines = _checked(lambda: client.chathistory_latest(target, limit, label=label))
        future = self._expect(match)
        future.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved: no warning
        connection.send(lines)
        return future

    def _saw(self, folded: str, when: datetime) -> bool:
        last = self._last_seen.get(folded)
        if last is None or when > last:
            self._last_seen[folded] = when
            return True
        return False

    def _load_last_seen(self) -> dict[str, datetime]:
        path = self._last_seen_path
        if path is None:
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("%s: cannot read %s: %s", self._account_id, path, exc)
            return {}
        seen: dict[str, datetime] = {}
        if isinstance(data, dict):
            for target, value in data.items():
                when = parse_time(value) if isinstance(value, str) else None
                if isinstance(target, str) and when is not None:
                    seen[target] = when
        return seen

    # -------------------------------------------------------------------------------- group chat

    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey:
        client, _ = self._require()
        channel = room.strip()
        if not client.is_channel(channel):
            channel = "#" + channel
        if client.casefold(channel) not in client.channels:  # already in: a JOIN would get no answer
            await self._join(channel)
        return ConversationKey.room(self._account_id, self._handle(channel))

    async def _join(self, channel: str) -> None:
        client, connection = self._require()
        folded = self._handle(channel)

        def match(event: ev.Event) -> object | None:
            if isinstance(event, ev.Names) and self._handle(event.channel) == folded:
                return True  # after JOIN: NAMES (and, with +H, the history replay) has come
            if isinstance(event, ev.ErrorReply) and folded in self._handle(event.text).split(" ")[:1]:
                return ProtocolError(f"cannot join {channel}: {event.text} ({event.code})")
            return None

        lines = _checked(lambda: client.join(channel))
        future = self._expect(match)
        connection.send(lines)
        await self._await(future, f"JOIN {channel}")
        history = self._history_joins.pop(folded, None)
        if history is not None:  # CHATHISTORY after the JOIN: wait for it, but the channel is joined anyway
            try:
                await self._page_history(channel, folded, history)
            except (TimeoutError, ProtocolError, NetworkError) as exc:
                # Not caught up: live messages of the channel carry no position until the next JOIN.
                self._warn(f"no history for {channel}: {str(exc) or 'no answer'}")
            else:
                self._caught_up.add(folded)
            finally:
                self._history_pending.discard(folded)

    async def _page_history(self, channel: str, folded: str, first: asyncio.Future[object]) -> None:
        """Waits for the JOIN history, then asks AFTER the newest time seen until a batch brings nothing
        new: a server may send fewer messages than asked (its own limit) and still hold more."""
        history: asyncio.Future[object] | None = first
        while history is not None:
            try:
                async with asyncio.timeout(HISTORY_WAIT):
                    count = await history
            finally:
                self._waiters = [w for w in self._waiters if w.future is not history]
            marker = self._last_seen.get(folded)
            history = None
            if isinstance(count, int) and count > 0 and marker is not None and marker != self._paged_from.get(folded):
                self._paged_from[folded] = marker
                history = self._request_history(channel, marker, HISTORY_ON_JOIN)
        self._paged_from.pop(folded, None)

    async def leave_room(self, room: ConversationKey) -> None:
        client, connection = self._require()
        folded = room.handle

        def match(event: ev.Event) -> object | None:
            if isinstance(event, ev.Parted) and event.is_self and self._handle(event.channel) == folded:
                return True
            if isinstance(event, ev.ErrorReply) and folded in self._handle(event.text).split(" ")[:1]:
                return True  # not on that channel: left anyway
            return None

        lines = _checked(lambda: client.part(room.handle))
        future = self._expect(match)
        connection.send(lines)
        await self._await(future, f"PART {room.handle}")

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        client, connection = self._require()
        folded = room.handle

        def match(event: ev.Event) -> object | None:
            if isinstance(event, ev.Topic) and self._handle(event.channel) == folded:
                return True
            if isinstance(event, ev.ErrorReply) and folded in self._handle(event.text).split(" ")[:1]:
                return ProtocolError(f"cannot set the topic of {room.handle}: {event.text} ({event.code})")
            return None

        lines = _checked(lambda: client.set_topic(room.handle, topic))
        future = self._expect(match)
        connection.send(lines)
        await self._await(future, f"TOPIC {room.handle}")

    # ---------------------------------------------------------------------- contacts and blocking

    def _watch_contacts(self) -> None:
        """After registration: the contact list, and presence of contacts from now on (MONITOR or ISON)."""
        client = self._client
        assert client is not None
        self._contacts.reset_presence()
        self._ison_asked.clear()
        items = tuple(RosterItem(handle=h, name=n) for h, n in sorted(self._contacts.contacts.items()))
        self._emit(RosterSnapshot(account_id=self._account_id, items=items))
        if client.supports_monitor:
            if self._contacts.contacts:
                self._send(client.monitor(True, sorted(self._contacts.contacts)))
        else:
            self._ison_task = asyncio.create_task(self._poll_ison(), name=f"{self._account_id} ISON")

    async def _poll_ison(self) -> None:
        while True:
            self._ask_ison()
            await asyncio.sleep(self._ison_interval)

    def _ask_ison(self) -> None:
        client = self._client
        if client is None or not self._contacts.contacts:
            return
        lines = client.ison(sorted(self._contacts.contacts))
        self._ison_asked.extend({self._handle(nick) for nick in line.params} for line in lines)
        self._send(lines)

    def _stop_ison(self) -> None:
        task, self._ison_task = self._ison_task, None
        if task is not None:
            task.cancel()

    def _on_contact_event(self, event: ev.Online | ev.Offline | ev.MonitorListFull | ev.Invited) -> None:
        if isinstance(event, ev.Invited):
            channel, by = self._handle(event.channel), self._handle(event.by)
            if by in self._contacts.ignored:
                log.info("%s: dropped an invitation to %s from the ignored %s", self._account_id, channel, by)
                return
            self._invites[channel] = by
            self._emit(InvitedToRoom(account_id=self._account_id, room=channel, inviter=by, room_name=event.channel))
            return
        if isinstance(event, ev.MonitorListFull):
            self._warn(f"{self._where} follows at most {event.limit} nicks; not followed: {', '.join(event.nicks)}")
            return
        handles = [self._handle(nick) for nick in event.nicks]
        if isinstance(event, ev.Offline):
            changes = self._contacts.went_offline(handles)
        elif event.complete and self._ison_asked:  # an ISON reply: the others asked about are offline
            asked = self._ison_asked.pop(0)
            changes = [*self._contacts.came_online(handles), *self._contacts.went_offline(asked - set(handles))]
        else:
            changes = self._contacts.came_online(handles)
        for handle, presence in changes:
            self._presence(handle, presence)

    def _presence(self, handle: str, presence: Presence) -> None:
        if handle not in self._contacts.ignored:
            self._emit(PresenceChanged(account_id=self._account_id, handle=handle, presence=presence))

    def _fold(self, nick: str) -> str:
        """A nick given by the user, checked and casefolded (as the server folds, once connected)."""
        nick = normalize_address(nick)
        return self._client.casefold(nick) if self._client is not None else normalize_handle(nick)

    async def add_contact(self, handle: str, name: str | None = None, groups: tuple[str, ...] = ()) -> None:
        """Adds ``handle`` (a nick) to the contact list kept for this account and follows its presence
        (MONITOR, or the next ISON). IRC has no groups; ``groups`` is ignored."""
        folded = self._fold(handle)
        if self._client is not None and self._client.is_channel(folded):
            raise ConfigurationError(f"{handle} is a channel, not a nick: join it instead")
        self._contacts.add(folded, name)
        self._emit(RosterItemChanged(account_id=self._account_id, item=RosterItem(handle=folded, name=name)))
        client = self._client
        if self._connected and client is not None:
            if client.supports_monitor:
                self._send(client.monitor(True, [folded]))
            else:
                self._ask_ison()

    async def remove_contact(self, handle: str) -> None:
        folded = self._fold(handle)
        if not self._contacts.remove(folded):
            return
        client = self._client
        if self._connected and client is not None and client.supports_monitor:
            self._send(client.monitor(False, [folded]))
        self._emit(RosterItemRemoved(account_id=self._account_id, handle=folded))

    async def answer_subscription(self, handle: str, accept: bool) -> None:
        raise UnsupportedError("IRC has no contact requests")

    async def block(self, handle: str) -> None:
        """Ignores ``handle`` from now on (client-side): its messages, notices, invitations and presence
        are dropped. Kept with the contact list."""
        self._contacts.ignore(self._fold(handle), True)

    async def unblock(self, handle: str) -> None:
        self._contacts.ignore(self._fold(handle), False)

    async def blocked(self) -> tuple[str, ...]:
        return tuple(sorted(self._contacts.ignored))

    async def answer_invitation(self, room: str, accept: bool) -> ConversationKey | None:
        """Joins the channel of an invitation (``accept``); IRC has no way to decline, so declining only
        forgets it."""
        self._invites.pop(self._fold_channel(room), None)
        if not accept:
            return None
        return await self.join_room(room)

    def _fold_channel(self, room: str) -> str:
        return self._client.casefold(room.strip()) if self._client is not None else normalize_handle(room)

    # ----------------------------------------------------------------------------------- helpers

    def _warn_malformed(self, event: ev.Malformed) -> None:
        if self._malformed <= MALFORMED_WARNINGS:
            more = "; further malformed lines are not reported" if self._malformed == MALFORMED_WARNINGS else ""
            self._warn(f"malformed line from {self._where}: {event.reason}{more}")

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self._account_id, message)
        self._emit(AdapterWarning(account_id=self._account_id, message=message))

    def _emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self._account_id, type(event).__name__)
