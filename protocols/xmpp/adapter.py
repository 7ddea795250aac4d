"""``XmppAdapter``: the ``Adapter`` for XMPP, on slixmpp (also group chats and history fetch).

One ``slixmpp.ClientXMPP`` per successful ``connect()``: a reconnect builds a fresh client and never
resumes the old stream (XEP-0198 resumption is off), because the core re-sends its pending messages
itself; a resumed stream would send them a second time.

Security defaults: TLS with certificate verification (the account's CA file, else the system CAs);
STARTTLS, or direct TLS with ``direct_tls``; an unencrypted stream only with ``allow_plaintext``
(and then SCRAM only, never PLAIN). The password never appears in a message or a log line.

Presence kinds: XMPP has no standard invisibility that servers implement (XEP-0186 is rare), so
``INVISIBLE`` is not offered in ``PROTOCOL.presence_kinds``; if asked anyway it sends unavailable
presence, like ``OFFLINE``: contacts see the account offline, the server stops routing presence to
it, and messages to the bare JID wait in offline storage / MAM until the account becomes visible.

Message archive (XEP-0313), adapter-side: ``connect()`` sends presence, then pages (RSM, forward,
``after`` = the previous page's ``<last/>``) through the account's archive from its catch-up position
until the server answers ``complete``, and emits each result as a ``MessageReceived(is_backfill=True)``
with the archive time, in archive order, before it returns (up to ``BACKFILL_BUDGET`` seconds; a longer
catch-up goes on in the background). A page with fewer results than asked is NOT the end: servers cap
pages (Prosody at 50). The server id of every message is the archive id: on Prosody the MAM result id,
the stanza-id on the live copy, on the offline-storage copy and on carbons are the same string, so the
core keeps one row per message. Our own sent messages come back as own echoes carrying their origin-id
(the core's idempotency key). With no position, the newest ``FIRST_SYNC_LIMIT`` messages of the last
``FIRST_SYNC_WINDOW`` are fetched.

Catch-up positions (``SupportsResume``, ``positions.py``): every message of a catch-up carries the
position it completes (``MessageReceived.position``: archive JID + archive id and time), and a page that
ends on a result that is no message ends with ``PositionReached``; the core stores a position in the
message's own transaction and hands the stored ones back through ``resume_from`` before each connect.
A live message carries its stanza-id as a position only once that archive's catch-up has reached
``complete`` on this connection: while a catch-up runs, or after one failed, live messages never move
the position past a part of the archive not yet fetched. Delayed copies (offline storage) carry none.

Group chats (XEP-0045): rooms joined with ``join_room`` are rejoined after every reconnect of this
adapter (the ``autojoin`` option is read by the core's room service, which calls ``join_room``); a
room with a stored archive position is caught up from its own archive (muc_mam) with
``maxstanzas=0``, otherwise the join history fills in; both carry the room's stanza-ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import ssl
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import slixmpp
from slixmpp.plugins.xep_0198 import stanza as sm_stanza
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from aggregator.api import (
    AccountSettings,
    AdapterEvent,
    AdapterWarning,
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    ConversationKind,
    Credentials,
    EventSink,
    MessageKind,
    MessageReceived,
    MessageState,
    MessageStateChanged,
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
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    SendReceipt,
    SubscriptionRequested,
    TypingChanged,
    UnsupportedError,
)
from protocols.certificates import accept_pinned_certificate, pin_refusal, presented_certificate, unverified_for_pin
from protocols.xmpp import mapping
from protocols.xmpp.addresses import (
    DEFAULT_DIRECT_TLS_PORT,
    DEFAULT_PORT,
    Jid,
    normalize_address,
    normalize_handle,
    parse_jid,
    parse_server,
)
from protocols.xmpp.mapping import StanzaError
from protocols.xmpp.positions import Position, decode_all, read_legacy, remove_legacy

log = logging.getLogger(__name__)

#: Seconds for the whole login (TCP, TLS, SASL, bind, roster), for a send's server ack, and for a
#: polite stream close.
CONNECT_TIMEOUT = 30.0
SEND_TIMEOUT = 30.0
DISCONNECT_TIMEOUT = 2.0

PLUGINS = (
    "xep_0030",  # service discovery (needed by the others)
    "xep_0085",  # chat states
    "xep_0184",  # delivery receipts
    "xep_0198",  # stream management: the server's ack for each sent stanza
    "xep_0199",  # ping: the ack when stream management is not available
    "xep_0203",  # delayed delivery
    "xep_0280",  # message carbons
    "xep_0359",  # unique and stable stanza ids
)

#: MAM (XEP-0313): results asked per page (the server may send fewer: only ``complete`` ends a
#: catch-up); the first sync ever (no position) fetches at most ``FIRST_SYNC_LIMIT`` messages of the last
#: ``FIRST_SYNC_WINDOW``. ``connect()`` waits ``BACKFILL_BUDGET`` seconds for the catch-up, which then
#: goes on in the background. An archive found empty at the first sync is caught up next time from its
#: query time less ``EMPTY_ARCHIVE_MARGIN`` (the server's clock may differ from ours).
MAM_PAGE = 100
MAM_TIMEOUT = 20.0
FIRST_SYNC_WINDOW = timedelta(days=7)
FIRST_SYNC_LIMIT = 500
EMPTY_ARCHIVE_MARGIN = timedelta(days=1)
BACKFILL_BUDGET = 10.0
#: MUC (XEP-0045): the join history asked for when the room's archive position is unknown.
JOIN_HISTORY = 50
JOIN_TIMEOUT = 20.0
#: Corrections (XEP-0308) name the replaced message by its ``id``; this many recent ids are mapped
#: to the server ids the core stored (per process: older corrections are stored as new messages).
ID_MAP_SIZE = 5000

_NOT_RETRYABLE_STREAM_ERRORS = frozenset({"conflict", "not-authorized", "host-unknown", "policy-violation"})


def _option_flag(settings: AccountSettings, name: str) -> bool:
    value = settings.options.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"option {name}={value!r} is not a yes/no value")


class _Login:
    """The outcome of one connection attempt, settled by the first decisive event."""

    def __init__(self) -> None:
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_error: BaseException | str | None = None
        self.certificate_problem: str | None = None

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)

    def succeed(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


@dataclass
class _Room:
    """A room the account wants to be in (joined now, or rejoined after a reconnect)."""

    jid: str
    nick: str
    joined: asyncio.Future[None] | None = None
    leaving: asyncio.Future[None] | None = None
    present: bool = False  # our own presence is in the room
    history_done: bool = False  # the subject arrived: what follows is live
    created: bool = False  # status 201: a new, locked room that we must configure
    occupants: dict[str, str | None] = field(default_factory=dict)  # nick -> real bare JID if shown
    subject: str = ""
    topic_waiter: tuple[str, asyncio.Future[None]] | None = None
    rejoin: asyncio.Task[None] | None = None  # the join after a (re)connect, while it runs


@dataclass
class _MamQuery:
    archive: str  # the bare JID that must send the results
    results: list[mapping.MamResult] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _MamPage:
    results: list[mapping.MamResult]
    complete: bool  # the server said so (``<fin complete='true'/>``)
    last: str | None  # RSM ``<last/>``: where the next page starts


class XmppAdapter:
    """One XMPP account. Raises ``ConfigurationError`` for unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self._settings = settings
        self._sink = sink
        self._account_id = settings.account_id
        self._own = parse_jid(normalize_address(settings.address))
        self._direct_tls = _option_flag(settings, "direct_tls")
        self._server = parse_server(settings.server, direct_tls=self._direct_tls)
        if settings.ca_file is not None and not settings.ca_file.is_file():
            raise ConfigurationError(f"the CA file {settings.ca_file} does not exist or is not a file")
        resource = settings.options.get("resource", "").strip()
        self._resource = resource or f"aggregator-{secrets.token_hex(3)}"
        self._ctx = mapping.Context(self._account_id, self._own, self._own.domain)
        self._client: Any = None
        self._login: _Login | None = None
        self._connected = False
        self._lost_reported = False
        self._stream_error: str | None = None
        self._presence = Presence(PresenceKind.AVAILABLE)
        self._resources: dict[str, dict[str, tuple[int, Presence]]] = {}
        self._shown: dict[str, Presence] = {}
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Archive -> where its catch-up resumes: from the core (``resume_from``), then what was emitted.
        self._positions: dict[str, Position] = read_legacy(settings.data_dir)
        self._caught_up: set[str] = set()  # archives caught up to "complete" on this connection
        # Offline copies (delayed by our server) that arrive while the own archive's catch-up runs: the
        # catch-up first brings what came before them (sent while we were going down), so they are
        # emitted after it, in the server's order (most are then duplicates the core drops).
        self._offline_held: list[tuple[Any, MessageReceived]] | None = None
        self._mam_queries: dict[str, _MamQuery] = {}
        self._ids: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._room_keys: set[str] = set()  # idempotency keys of our room messages (own-echo check)
        self._rooms: dict[str, _Room] = {}

    @property
    def _default_nick(self) -> str:
        return self._own.localpart or self._own.domain

    @property
    def _where(self) -> str:
        if self._server is None:
            return self._own.domain
        host, port = self._server
        return f"{host}:{port}"

    # -------------------------------------------------------------------------------- connection

    def _make_client(self, password: str) -> Any:
        client: Any = slixmpp.ClientXMPP(f"{self._own.bare}/{self._resource}", password)
        for plugin in PLUGINS:
            client.register_plugin(plugin)
        client.plugin["xep_0198"].allow_resume = False
        client.plugin["xep_0184"].auto_request = False  # we ask per chat message, not per stanza
        client.auto_authorize = None  # subscription requests go to the user
        client.auto_subscribe = False
        client.enable_direct_tls = self._direct_tls
        client.enable_starttls = not self._direct_tls
        client.enable_plaintext = False
        if self._settings.allow_plaintext:
            client.plugin["feature_mechanisms"].unencrypted_scram = True
        if self._settings.pinned_certificate is not None:  # checked before SASL (_pin_refused)
            unverified_for_pin(client.ssl_context, self._settings.pinned_certificate)
        elif self._settings.ca_file is not None:
            client.ca_certs = self._settings.ca_file
            accept_pinned_certificate(client.ssl_context, self._settings.ca_file)
        client.exception = self._library_exception
        handlers: dict[str, Callable[[Any], None]] = {
            "connection_failed": self._on_connection_failed,
            "reconnect_delay": self._on_reconnect_delay,
            "ssl_invalid_chain": self._on_ssl_invalid_chain,
            "ssl_cert": self._on_ssl_cert,
            "failed_auth": self._on_failed_auth,
            "no_auth": self._on_no_auth,
            "session_start": self._on_session_start,
            "disconnected": self._on_disconnected,
            "stream_error": self._on_stream_error,
            "stanza_acked": self._on_stanza_acked,
            "message": self._on_message,
            "carbon_received": self._on_carbon,
            "carbon_sent": self._on_carbon,
            "chatstate": self._on_chat_state,
            "receipt_received": self._on_receipt,
            "presence": self._on_presence,
            "presence_subscribe": self._on_subscribe,
            "roster_update": self._on_roster_push,
        }
        for event, handler in handlers.items():
            client.add_event_handler(event, self._guarded(client, event, handler))
        client.add_event_handler("message_error", self._guarded(client, "message_error", self._on_message_error))
        # Stanzas without a <body/> that slixmpp's "message" event does not cover:
        ns = client.default_ns
        for name, path, handler in (
            ("aggregator archive results", f"{{{ns}}}message/{{{mapping.NS_MAM}}}result", self._on_mam_message),
            ("aggregator room subjects", f"{{{ns}}}message/{{{ns}}}subject", self._on_subject_message),
        ):
            client.register_handler(Callback(name, MatchXPath(path), self._guarded(client, name, handler)))
        client.register_handler(
            Callback(
                "aggregator plaintext guard",
                MatchXPath(f"{{{client.stream_ns}}}features"),
                self._guarded(client, "features", self._on_stream_features),
            )
        )
        return client

    def _guarded(self, client: Any, event: str, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """``handler`` for events of ``client`` only while it is ours; errors become warnings."""

        def run(data: Any) -> None:
            if client is not self._client:
                return
            try:
                handler(data)
            except StanzaError as exc:
                self._warn(f"ignored a malformed stanza ({event}): {exc}")
            except Exception as exc:  # whatever the server sends, the adapter keeps running
                log.exception("%s: handling %s failed", self._account_id, event)
                self._warn(f"could not handle {event}: {exc!r}")

        return run

    def _library_exception(self, exc: Exception) -> None:
        log.error("%s: slixmpp reported an error", self._account_id, exc_info=exc)
        self._warn(f"the XMPP library failed on input: {exc!r}")

    async def connect(self, credentials: Credentials) -> None:
        if self._connected:
            return
        await self.disconnect()  # drop what is left of an earlier, lost connection
        if not credentials.password:
            raise AuthenticationError(f"{self._own.bare}: no password given")
        self._lost_reported = False
        self._stream_error = None
        self._login = login = _Login()
        self._client = client = self._make_client(credentials.password)
        if self._server is None:
            client.connect()
        else:
            client.connect(*self._server)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await login.future
        except TimeoutError:
            await self._close(polite=False)  # no session to end politely
            raise NetworkError(f"{self._where} did not complete the login within {CONNECT_TIMEOUT:g} s") from None
        except CertificateError as exc:
            await self._close(polite=False)
            raise await self._with_presented(exc) from None
        except BaseException:
            await self._close(polite=False)  # no session to end politely
            raise
        finally:
            self._login = None
        self._connected = True
        log.info("%s connected to %s as %s", self._account_id, self._where, client.boundjid)

    def _fail_login(self, error: BaseException) -> None:
        login = self._login
        if login is not None and not login.future.done():
            login.fail(error)
            with contextlib.suppress(Exception):
                self._client.cancel_connection_attempt()
            with contextlib.suppress(Exception):
                self._client.abort()

    def _on_connection_failed(self, error: Any) -> None:
        """One TCP/TLS attempt failed; slixmpp tries the next address, then reschedules (reconnect_delay)."""
        if self._login is None:
            return
        if isinstance(error, ssl.SSLCertVerificationError):
            self._login.certificate_problem = error.verify_message or str(error)
        self._login.last_error = error

    def _on_reconnect_delay(self, _delay: Any) -> None:
        """Every address failed: the login fails (the core decides when to try again)."""
        login = self._login
        if login is None:
            return
        if login.certificate_problem is not None:
            self._fail_login(self._certificate_error(login.certificate_problem))
            return
        error = login.last_error
        if isinstance(error, ssl.SSLError):
            reason = f"the TLS handshake failed ({error.reason or error})"
        elif isinstance(error, OSError):
            reason = error.strerror or str(error)
        else:
            reason = str(error) if error else "no address answered"
        self._fail_login(NetworkError(f"cannot reach {self._where}: {reason}"))

    def _certificate_error(self, problem: str) -> CertificateError:
        hint = (
            f" (CA file: {self._settings.ca_file})"
            if self._settings.ca_file
            else " (checked against the system's CAs; set a CA file for a private CA)"
        )
        return CertificateError(f"the TLS certificate of {self._where} is not trusted: {problem}{hint}", None, problem)

    async def _with_presented(self, error: CertificateError) -> CertificateError:
        """The error with the certificate the server presents, read over a second, unverified handshake
        (STARTTLS unless direct TLS) that never logs in. Without SRV lookup: the configured server, or
        the domain on the default port."""
        if error.certificate is not None:
            return error
        host, port = self._server or (
            self._own.domain,
            DEFAULT_DIRECT_TLS_PORT if self._direct_tls else DEFAULT_PORT,
        )
        presented = await presented_certificate(
            host,
            port,
            problem=error.problem,
            server_name=self._own.domain,
            xmpp_domain=None if self._direct_tls else self._own.domain,
        )
        return CertificateError(str(error), presented, error.problem)

    def _on_ssl_invalid_chain(self, error: Any) -> None:
        if isinstance(error, ssl.SSLCertVerificationError):
            problem = error.verify_message or str(error)
        elif isinstance(error, ssl.SSLError):
            problem = str(error.reason or error)
        else:
            problem = str(error)
        self._fail_login(self._certificate_error(problem))

    def _on_ssl_cert(self, _pem: Any) -> None:
        self._pin_refused()  # as early as possible; _on_stream_features checks again before SASL

    def _pin_refused(self) -> bool:
        """With a pinned certificate: fails the login unless the stream's TLS peer presented exactly it."""
        pin, transport = self._settings.pinned_certificate, self._client.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if pin is None or ssl_object is None:
            return False
        refused = pin_refusal(ssl_object, pin, self._where)
        if refused is not None:
            self._fail_login(refused)
        return refused is not None

    def _on_stream_features(self, features: Any) -> None:
        """Refuses an unencrypted stream, or a certificate that is not the pinned one, before SASL unless
        ``allow_plaintext`` (runs before slixmpp's own)."""
        client = self._client
        encrypted = client.transport is not None and client.transport.get_extra_info("ssl_object") is not None
        if self._pin_refused():
            with contextlib.suppress(Exception):  # leave slixmpp's own feature handler nothing to negotiate
                features.xml.clear()
                features.plugins.clear()
            return
        if encrypted or (self._settings.allow_plaintext and self._settings.pinned_certificate is None):
            return
        offers_starttls = features.xml.find("{urn:ietf:params:xml:ns:xmpp-tls}starttls") is not None
        if offers_starttls and client.enable_starttls:
            return
        with contextlib.suppress(Exception):  # leave slixmpp's own feature handler nothing to negotiate
            features.xml.clear()
            features.plugins.clear()
        self._fail_login(
            PlaintextRefusedError(
                f"{self._where} offers no encryption (no STARTTLS); allow plaintext for this account to connect anyway"
            )
        )

    def _on_failed_auth(self, failure: Any) -> None:
        condition = mapping.failure_condition(failure)
        self._fail_login(AuthenticationError(f"{self._where} refused the login of {self._own.bare} ({condition})"))

    def _on_no_auth(self, _data: Any) -> None:
        self._fail_login(AuthenticationError(f"{self._where} offers no login method this client can use safely"))

    def _on_session_start(self, _data: Any) -> None:
        self._spawn(self._start_session(self._client), "session start")

    async def _start_session(self, client: Any) -> None:
        login = self._login
        self._caught_up.clear()  # live messages carry positions only once the catch-up is complete
        try:
            roster = await client.get_roster(timeout=CONNECT_TIMEOUT)
            self._on_roster(roster, snapshot=True)
            try:
                await client.plugin["xep_0280"].enable(timeout=CONNECT_TIMEOUT)
            except Exception as exc:  # a server without carbons is still usable
                log.info("%s: carbons not enabled: %r", self._account_id, exc)
            # Presence first, then the archive. Prosody does not deliver offline storage to a session
            # that has queried MAM, so the other order would lose, until the next connect, what arrives
            # between the query and the presence. This way offline copies arrive too, with the same
            # stanza-id as their MAM copy, and the core keeps one of each.
            self._offline_held = []
            self._send_own_presence(client)
            catch_up = self._spawn(self._catch_up(client), "archive catch-up")
            done, _ = await asyncio.wait({catch_up}, timeout=BACKFILL_BUDGET)
            if not done:
                log.info("%s: the archive catch-up goes on after the login", self._account_id)
        except Exception as exc:
            if login is not None:
                self._fail_login(NetworkError(f"{self._where} did not complete the session set-up: {exc!r}"))
            return
        if login is not None:
            login.succeed()
        for room in list(self._rooms.values()):
            room.rejoin = self._spawn(self._rejoin(client, room), f"join {room.jid}")

    def _on_stream_error(self, error: Any) -> None:
        self._stream_error = mapping.failure_condition(error)
        if self._login is not None:
            if self._stream_error == "not-authorized":
                self._fail_login(AuthenticationError(f"{self._where} refused the login of {self._own.bare}"))
            else:
                self._fail_login(NetworkError(f"{self._where} ended the stream: {self._stream_error}"))

    def _on_disconnected(self, reason: Any) -> None:
        if self._login is not None:
            if self._client is not None and self._client.is_connecting():
                # A failed STARTTLS handshake closes the transport before start_tls() sees the SSL error;
                # that error (ssl_invalid_chain) or a second "disconnected" settles the login.
                return
            self._fail_login(NetworkError(f"{self._where} closed the connection during the login"))
            return
        if not self._connected:
            return
        self._connected = False
        self._fail_acks(NetworkError(f"the connection to {self._where} dropped before the server confirmed"))
        self._clear_presence()
        self._reset_rooms(NetworkError(f"the connection to {self._where} dropped"))
        self._caught_up.clear()
        self._offline_held = None  # the archive holds them for the next catch-up
        if self._lost_reported:
            return
        self._lost_reported = True
        condition = self._stream_error
        why = f"the server ended the stream ({condition})" if condition else f"connection lost ({reason or 'closed'})"
        log.info("%s: %s", self._account_id, why)
        self._emit(
            ConnectionLost(
                account_id=self._account_id,
                reason=f"{self._where}: {why}",
                retryable=condition not in _NOT_RETRYABLE_STREAM_ERRORS,
            )
        )

    async def disconnect(self) -> None:
        await self._close(polite=True)

    async def _close(self, *, polite: bool) -> None:
        """Drops the connection; ``polite`` ends the stream and waits (briefly) for the server's end."""
        if self._login is not None:  # a connect() still under way fails now
            self._login.fail(NotConnectedError(f"{self._account_id}: disconnected while connecting"))
        client, self._client = self._client, None
        self._connected = False
        self._fail_acks(NotConnectedError(f"{self._account_id} disconnected"))
        self._clear_presence()
        self._reset_rooms(NotConnectedError(f"{self._account_id} disconnected"))
        self._caught_up.clear()
        self._offline_held = None  # the archive holds them for the next catch-up
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.cancel_connection_attempt()
        if polite and client.transport is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(DISCONNECT_TIMEOUT + 1):
                    await client.disconnect(wait=DISCONNECT_TIMEOUT)
        with contextlib.suppress(Exception):
            client.abort()
        sender = getattr(client, "_run_out_filters", None)  # slixmpp leaves its send loop running
        if sender is not None and not sender.done():
            sender.cancel()
            with contextlib.suppress(BaseException):
                await sender

    # ------------------------------------------------------------------------------------ inbound

    def _on_message(self, stanza: Any) -> None:
        mtype = stanza.xml.get("type") or "normal"
        if mtype == "error":
            return  # the "message_error" event
        if mtype == "groupchat":
            self._on_room_message(stanza)
            return
        if mapping.carbon_of(stanza) is not None:
            return  # handled by the carbon events
        problems: list[str] = []
        event = mapping.message_received(stanza, self._ctx, problems)
        for problem in problems:
            self._warn(problem)
        self._emit_live(self._own.bare, stanza, event)

    def _emit_live(self, archive: str, stanza: Any, event: MessageReceived | None) -> None:
        """Emits a live message (if any) with the position it completes in ``archive``, when it has one:
        its stanza-id, once that archive is caught up on this connection (never a delayed copy of our
        own archive, which would move the position back). Without a message, the position alone."""
        position: ResumePosition | None = None
        archive_id = mapping.stanza_id(stanza, archive)
        delayed = archive == self._own.bare and event is not None and event.is_backfill
        if archive_id is not None and archive in self._caught_up and not delayed:
            stamp = event.timestamp if event is not None and event.timestamp else datetime.now(UTC)
            position = self._advance(archive, Position(archive_id, stamp))
        if event is not None and delayed and self._offline_held is not None:
            self._offline_held.append((stanza, event))
        elif event is not None:
            self._emit_message(event, mapping.message_id(stanza), stanza, position)
        elif position is not None:
            self._emit(PositionReached(account_id=self._account_id, position=position))

    def _advance(self, archive: str, position: Position) -> ResumePosition:
        self._positions[archive] = position
        return position.resume(archive)

    def resume_from(self, positions: Mapping[str, str]) -> None:
        """``SupportsResume``: the positions the core stored with their messages; the next connect's
        catch-up of each archive starts there. Archives it has none for fall back to what an earlier
        version left in the data dir (removed once the core holds a position of our own archive)."""
        resumed = decode_all(positions)
        legacy = read_legacy(self._settings.data_dir)
        self._positions = {**legacy, **resumed}
        if self._own.bare in resumed and legacy:
            remove_legacy(self._settings.data_dir)

    def _emit_message(
        self, event: MessageReceived, message_id: str | None, stanza: Any, position: ResumePosition | None = None
    ) -> None:
        """Emits ``event`` with a correction's target mapped to the server id the core stored for it.

        XEP-0308 names the replaced message by its ``id`` attribute (or origin-id), while the core keys
        messages by server id (the stanza-id): ids seen in this process are mapped (``ID_MAP_SIZE``
        most recent, per conversation and sender); an unknown id is passed through unchanged, so the
        core finds no target and keeps the correction as a message of its own (nothing is lost).
        """
        handle = event.conversation.handle
        sender = event.sender_name if event.conversation.kind is ConversationKind.ROOM else event.sender
        who = sender or event.sender
        if event.replaces_server_id is not None:
            mapped = self._ids.get((handle, who, event.replaces_server_id))
            if mapped is not None and mapped != event.replaces_server_id:
                event = dataclasses.replace(event, replaces_server_id=mapped)
        if event.server_id is not None:
            for local_id in {message_id, mapping.origin_id(stanza)}:
                if local_id:
                    self._ids[(handle, who, local_id)] = event.server_id
                    self._ids.move_to_end((handle, who, local_id))
            while len(self._ids) > ID_MAP_SIZE:
                self._ids.popitem(last=False)
        if position is not None:
            event = dataclasses.replace(event, position=position)
        self._emit(event)

    def _on_message_error(self, stanza: Any) -> None:
        """A bounced message: the one we sent with that id failed (``MessageStateChanged`` FAILED)."""
        key = mapping.message_id(stanza)
        sender = mapping.sender_of(stanza)
        reason = mapping.error_of(stanza)
        room = self._rooms.get(sender.bare)
        if room is not None and room.topic_waiter is not None and room.topic_waiter[0] == key:
            waiter = room.topic_waiter[1]
            if not waiter.done():
                waiter.set_exception(ProtocolError(f"{room.jid} refused the topic: {reason}"))
            return
        if key is None:
            self._warn(f"an error from {sender.bare} about a message without an id: {reason}")
            return
        conversation = (
            ConversationKey.room(self._account_id, sender.bare)
            if room is not None
            else ConversationKey.direct(self._account_id, sender.bare)
        )
        log.info("%s: message %s to %s failed: %s", self._account_id, key, sender.bare, reason)
        self._emit(
            MessageStateChanged(
                account_id=self._account_id,
                conversation=conversation,
                state=MessageState.FAILED,
                idempotency_key=key,
                reason=f"{sender.bare} returned the message: {reason}",
            )
        )

    def _on_carbon(self, stanza: Any) -> None:
        """XEP-0280 copies (slixmpp checked that they come from our own account)."""
        found = mapping.carbon_of(stanza)
        if found is None:
            return
        direction, inner = found
        if (inner.get("type") or "normal") in ("error", "groupchat"):
            return
        problems: list[str] = []
        event = mapping.message_received(inner, self._ctx, problems, own_echo=direction == "sent")
        for problem in problems:
            self._warn(problem)
        self._emit_live(self._own.bare, inner, event)

    def _on_chat_state(self, stanza: Any) -> None:
        if mapping.carbon_of(stanza) is not None or (stanza.xml.get("type") == "groupchat"):
            return
        state = mapping.chat_state_of(stanza)
        if state is None:
            return
        peer = mapping.sender_of(stanza)
        self._emit(
            TypingChanged(
                account_id=self._account_id,
                conversation=ConversationKey.direct(self._account_id, peer.bare),
                handle=peer.bare,
                typing=state in mapping.TYPING_STATES,
            )
        )

    def _on_receipt(self, stanza: Any) -> None:
        receipt = mapping.receipt_of(stanza)
        if receipt is None:
            raise StanzaError("a delivery receipt without an id")
        peer = mapping.sender_of(stanza)
        self._emit(
            MessageStateChanged(
                account_id=self._account_id,
                conversation=ConversationKey.direct(self._account_id, peer.bare),
                state=MessageState.DELIVERED,
                idempotency_key=receipt,
            )
        )

    def _on_presence(self, stanza: Any) -> None:
        sender = mapping.sender_of(stanza)
        room = self._rooms.get(sender.bare)
        if room is not None:
            self._on_room_presence(room, stanza, sender)
            return
        presence = mapping.presence_of(stanza)
        if presence is None:
            return
        if sender.bare == self._own.bare or not sender.localpart:
            return  # our own resources; server components
        resources = self._resources.setdefault(sender.bare, {})
        if presence.kind is PresenceKind.OFFLINE:
            resources.pop(sender.resource, None)
        else:
            resources[sender.resource] = (mapping.priority_of(stanza), presence)
        best = self._best_presence(resources, fallback=presence)
        if self._shown.get(sender.bare) != best:
            self._shown[sender.bare] = best
            self._emit(PresenceChanged(account_id=self._account_id, handle=sender.bare, presence=best))

    @staticmethod
    def _best_presence(resources: dict[str, tuple[int, Presence]], fallback: Presence) -> Presence:
        if not resources:
            return Presence(PresenceKind.OFFLINE, fallback.status if fallback.kind is PresenceKind.OFFLINE else "")
        _, best = min(resources.values(), key=lambda entry: (-entry[0], entry[1].kind.rank))
        return best

    def _clear_presence(self) -> None:
        self._resources.clear()
        self._shown.clear()

    def _on_subscribe(self, stanza: Any) -> None:
        sender = mapping.sender_of(stanza)
        self._emit(
            SubscriptionRequested(
                account_id=self._account_id, handle=sender.bare, message=mapping.subscription_message(stanza)
            )
        )

    def _on_roster_push(self, iq: Any) -> None:
        if iq.xml.get("type") == "set":
            self._on_roster(iq, snapshot=False)

    def _on_roster(self, iq: Any, *, snapshot: bool) -> None:
        items, removed, problems = mapping.roster_items(iq)
        for problem in problems:
            self._warn(f"ignored a roster item: {problem}")
        if snapshot:
            self._emit(RosterSnapshot(account_id=self._account_id, items=items))
            return
        for item in items:
            self._emit(RosterItemChanged(account_id=self._account_id, item=item))
        for handle in removed:
            self._emit(RosterItemRemoved(account_id=self._account_id, handle=handle))

    # ----------------------------------------------------------------------------------- outbound

    def _ready_client(self) -> Any:
        if not self._connected or self._client is None or self._client.transport is None:
            raise NotConnectedError(f"{self._account_id} is not connected")
        return self._client

    def _peer(self, conversation: ConversationKey) -> Jid:
        if conversation.kind is not ConversationKind.DIRECT:
            raise UnsupportedError("XMPP group chats are not supported yet")
        try:
            return parse_jid(normalize_handle(conversation.handle))
        except ConfigurationError as exc:
            raise ConfigurationError(f"cannot send to {conversation.handle!r}: {exc}") from None

    def _send_own_presence(self, client: Any) -> None:
        presence = self._presence
        if presence.kind in (PresenceKind.OFFLINE, PresenceKind.INVISIBLE):
            client.send_presence(ptype="unavailable", pstatus=presence.status or None)
            return
        show = mapping.KIND_TO_SHOW[presence.kind]
        client.send_presence(pshow=show or None, pstatus=presence.status or None)

    async def set_presence(self, presence: Presence) -> None:
        self._presence = presence
        if self._connected and self._client is not None:
            self._send_own_presence(self._client)

    async def set_typing(self, conversation: ConversationKey, typing: bool) -> None:
        client = self._ready_client()
        peer = self._peer(conversation)
        message = client.make_message(mto=peer.bare, mtype="chat")
        message["chat_state"] = "composing" if typing else "active"
        message.send()

    async def send_message(self, conversation: ConversationKey, message: OutgoingMessage) -> SendReceipt:
        client = self._ready_client()
        key = message.idempotency_key
        body = f"/me {message.body}" if message.kind is MessageKind.ACTION else message.body
        if conversation.kind is ConversationKind.ROOM:
            room = self._joined_room(conversation)
            stanza = client.make_message(mto=room.jid, mbody=body, mtype="groupchat")
            self._room_keys.add(key)
        else:
            peer = self._peer(conversation)
            stanza = client.make_message(mto=str(peer), mbody=body, mtype="chat")
            stanza["request_receipt"] = True
            stanza["chat_state"] = "active"
        stanza["id"] = key
        stanza["origin_id"]["id"] = key
        sm = client.plugin["xep_0198"]
        if sm.enabled_out:
            ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._acks[key] = ack
            try:
                stanza.send()
                client.send(str(sm_stanza.RequestAck(client)))  # queued after the message, so it covers it
                async with asyncio.timeout(SEND_TIMEOUT):
                    await ack
            except TimeoutError:
                raise NetworkError(f"{self._where} did not confirm the message within {SEND_TIMEOUT:g} s") from None
            finally:
                self._acks.pop(key, None)
        else:  # no stream management: the answer to a later ping proves the server processed the message
            stanza.send()
            try:
                await client.plugin["xep_0199"].ping(jid=self._own.domain, timeout=SEND_TIMEOUT)
            except Exception as exc:
                if type(exc).__name__ != "IqError":  # an error answer is an answer
                    raise NetworkError(f"{self._where} did not confirm the message: {exc!r}") from None
        return SendReceipt(remote_id=None, timestamp=datetime.now(UTC))

    def _on_stanza_acked(self, stanza: Any) -> None:
        key = mapping.message_id(stanza)
        future = self._acks.get(key) if key else None
        if future is not None and not future.done():
            future.set_result(None)

    def _fail_acks(self, error: Exception) -> None:
        for future in self._acks.values():
            if not future.done():
                future.set_exception(error)

    # ---------------------------------------------------------------------- message archive (MAM)

    def _on_mam_message(self, stanza: Any) -> None:
        result = mapping.mam_result(stanza)
        if result is not None:
            self._on_mam_result(stanza, result)

    def _on_subject_message(self, stanza: Any) -> None:
        if stanza.xml.get("type") == "groupchat" and mapping.body_of(stanza) is None:
            self._on_room_message(stanza)  # with a body it comes through the "message" event

    def _on_mam_result(self, stanza: Any, result: mapping.MamResult) -> None:
        """Collects a result of one of our queries; results of unknown queries or from others are dropped."""
        query = self._mam_queries.get(result.query_id)
        raw_from = stanza.xml.get("from")
        source = mapping.sender_of(stanza).bare if raw_from else self._own.bare
        if query is None or source != query.archive:
            self._warn(f"ignored an archive result from {source} that answers no query of ours")
            return
        query.results.append(result)

    async def _mam_page(
        self,
        client: Any,
        archive: str,
        *,
        with_jid: str | None = None,
        start: datetime | None = None,
        after: str | None = None,
        before: str | None = None,
        limit: int = MAM_PAGE,
    ) -> _MamPage:
        """One page of ``archive`` (our own bare JID or a room), results oldest first.

        ``before=""`` asks for the last page (newest messages); ``after`` pages forward from an id. Only
        the server's ``complete`` ends a query: a page may hold fewer results than asked (Prosody sends
        at most 50) and still not be the last.
        """
        query_id = secrets.token_hex(8)
        iq = client.make_iq_set() if archive == self._own.bare else client.make_iq_set(ito=archive)
        query = ET.Element(f"{{{mapping.NS_MAM}}}query", queryid=query_id)
        form = ET.SubElement(query, f"{{{mapping.NS_DATA}}}x", type="submit")
        fields = {"FORM_TYPE": mapping.NS_MAM}
        if with_jid is not None:
            fields["with"] = with_jid
        if start is not None:
            fields["start"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for var, value in fields.items():
            element = ET.SubElement(form, f"{{{mapping.NS_DATA}}}field", var=var)
            if var == "FORM_TYPE":
                element.set("type", "hidden")
            ET.SubElement(element, f"{{{mapping.NS_DATA}}}value").text = value
        rsm = ET.SubElement(query, f"{{{mapping.NS_RSM}}}set")
        ET.SubElement(rsm, f"{{{mapping.NS_RSM}}}max").text = str(limit)
        if after is not None:
            ET.SubElement(rsm, f"{{{mapping.NS_RSM}}}after").text = after
        if before is not None:
            ET.SubElement(rsm, f"{{{mapping.NS_RSM}}}before").text = before or None
        iq.xml.append(query)
        self._mam_queries[query_id] = _MamQuery(archive)
        try:
            answer = await iq.send(timeout=MAM_TIMEOUT)
        finally:
            collected = self._mam_queries.pop(query_id)
        fin = answer.xml.find(f"{{{mapping.NS_MAM}}}fin")
        results = collected.results
        if fin is None:  # no paging information at all: nothing more to ask for
            return _MamPage(results, True, results[-1].archived.result_id if results else None)
        last = fin.findtext(f"{{{mapping.NS_RSM}}}set/{{{mapping.NS_RSM}}}last")
        complete = fin.get("complete") in ("true", "1")
        return _MamPage(results, complete, last or (results[-1].archived.result_id if results else None))

    async def _mam_forward(
        self,
        client: Any,
        archive: str,
        *,
        after: str | None,
        start: datetime | None,
        limit: int | None = None,
        with_jid: str | None = None,
        track: bool = False,
    ) -> int:
        """Pages forward from ``after`` / ``start`` until ``complete`` (or ``limit`` messages), emitting
        each page as it comes; returns the count. ``track``: the catch-up, whose messages carry their
        positions (and a page ending on a result that is no message ends with ``PositionReached``)."""
        count = 0
        while limit is None or count < limit:
            page_size = MAM_PAGE if limit is None else min(MAM_PAGE, limit - count)
            page = await self._mam_page(client, archive, with_jid=with_jid, start=start, after=after, limit=page_size)
            self._emit_results(archive, page.results, track=track)
            count += len(page.results)
            if page.complete or not page.results:
                break
            if page.last is None or page.last == after:
                self._warn(f"the archive of {archive} did not say where its next page starts; stopped paging")
                break
            after = page.last
        return count

    async def _mam_latest(
        self, client: Any, archive: str, *, start: datetime | None, limit: int, with_jid: str | None = None
    ) -> list[mapping.MamResult]:
        """The newest ``limit`` messages since ``start``, oldest first (pages backwards with RSM ``before``)."""
        pages: list[list[mapping.MamResult]] = []
        before = ""
        total = 0
        while total < limit:
            page = await self._mam_page(
                client, archive, with_jid=with_jid, start=start, before=before, limit=min(MAM_PAGE, limit - total)
            )
            pages.insert(0, page.results)
            total += len(page.results)
            if page.complete or not page.results:
                break
            first = page.results[0].archived.result_id
            if first == before:
                break
            before = first
        results = [result for page in pages for result in page]
        return results[-limit:] if len(results) > limit else results

    def _emit_results(self, archive: str, results: list[mapping.MamResult], *, track: bool) -> None:
        """Emits archived ``results`` in order; with ``track`` each message carries its position, and the
        position of a last result that is no message comes alone."""
        for result in results:
            position = (
                self._advance(archive, Position(result.archived.result_id, result.archived.stamp)) if track else None
            )
            emitted = self._emit_archived(archive, result, position)
            if position is not None and not emitted and result is results[-1]:
                self._emit(PositionReached(account_id=self._account_id, position=position))

    async def _sync_archive(self, client: Any, archive: str) -> int:
        """Emits what ``archive`` holds after its position (or the first-sync window), to ``complete``;
        then live messages of that archive carry their positions too."""
        self._caught_up.discard(archive)
        position = self._positions.get(archive)
        if position is not None:
            if position.archive_id is not None:
                try:
                    count = await self._mam_forward(client, archive, after=position.archive_id, start=None, track=True)
                except Exception as exc:
                    if getattr(exc, "condition", None) != "item-not-found":
                        raise
                    # The stored id is gone (archive expired or reset): go by time instead (or, without a
                    # time, from the first-sync window).
                    self._warn(f"the archive of {archive} no longer has the last message seen; catching up by time")
                    if position.stamp is None:
                        self._positions.pop(archive, None)
                        return await self._sync_archive(client, archive)
                    count = await self._mam_forward(client, archive, after=None, start=position.stamp, track=True)
            else:
                count = await self._mam_forward(client, archive, after=None, start=position.stamp, track=True)
        else:
            queried = datetime.now(UTC)
            results = await self._mam_latest(client, archive, start=queried - FIRST_SYNC_WINDOW, limit=FIRST_SYNC_LIMIT)
            self._emit_results(archive, results, track=True)
            if not results:  # nothing yet: the next catch-up starts at this query's time (less a margin)
                empty = self._advance(archive, Position(None, queried - EMPTY_ARCHIVE_MARGIN))
                self._emit(PositionReached(account_id=self._account_id, position=empty))
            count = len(results)
        self._caught_up.add(archive)
        return count

    async def _catch_up(self, client: Any) -> None:
        """The own archive since the last message stored, through the same events as live messages."""
        started = asyncio.get_running_loop().time()
        try:
            count = await self._sync_archive(client, self._own.bare)
        except Exception as exc:
            # Not caught up: live messages carry no position until the next connect catches up again.
            self._warn(f"could not fetch the message archive: {exc!r}")
            return
        finally:
            self._release_offline()
        elapsed = asyncio.get_running_loop().time() - started
        log.info("%s: %d archived message(s) fetched in %.2f s", self._account_id, count, elapsed)

    def _release_offline(self) -> None:
        """Emits the offline copies held during the catch-up (without positions), and stops holding."""
        held, self._offline_held = self._offline_held or [], None
        for stanza, event in held:
            self._emit_message(event, mapping.message_id(stanza), stanza)

    def _emit_archived(self, archive: str, result: mapping.MamResult, position: ResumePosition | None = None) -> bool:
        """Emits one archived message (with ``position``); False when the result is no message of ours."""
        inner = result.message
        mtype = inner.get("type") or "normal"
        problems: list[str] = []
        event: MessageReceived | None = None
        try:
            if archive == self._own.bare:
                if mtype == "groupchat":
                    return False  # room messages come from the room's own archive
                if mtype == "error":
                    self._on_message_error(inner)
                    return False
                own_echo = mapping.sender_of(inner).bare == self._own.bare
                event = mapping.message_received(
                    inner, self._ctx, problems, own_echo=own_echo, archived=result.archived
                )
            else:
                room = self._rooms.get(archive)
                nick = mapping.sender_of(inner).resource
                event = mapping.room_message(
                    inner,
                    self._ctx,
                    problems,
                    room=archive,
                    own_nick=room.nick if room is not None else self._default_nick,
                    real_jid=room.occupants.get(nick) if room is not None else None,
                    own_keys=self._room_keys,
                    archived=result.archived,
                )
        except StanzaError as exc:
            self._warn(f"ignored a malformed archived message in {archive}: {exc}")
            return False
        for problem in problems:
            self._warn(problem)
        if event is None:
            return False
        self._emit_message(event, mapping.message_id(inner), inner, position)
        return True

    async def fetch_history(self, conversation: ConversationKey, after: datetime | None, limit: int) -> int:
        """Emits up to ``limit`` archived messages of ``conversation`` (``is_backfill``), oldest first:
        those after ``after``, or the newest ones without it. Returns how many were emitted.
        The catch-up position is not touched."""
        client = self._ready_client()
        if limit <= 0:
            return 0
        if conversation.kind is ConversationKind.ROOM:
            archive, with_jid = self._joined_room(conversation).jid, None
        else:
            archive, with_jid = self._own.bare, self._peer(conversation).bare
        if after is not None:
            return await self._mam_forward(client, archive, after=None, start=after, limit=limit, with_jid=with_jid)
        results = await self._mam_latest(client, archive, start=None, limit=limit, with_jid=with_jid)
        self._emit_results(archive, results, track=False)
        return len(results)

    # -------------------------------------------------------------------------- group chat (MUC)

    def _room_key(self, room: _Room) -> ConversationKey:
        return ConversationKey.room(self._account_id, room.jid)

    def _joined_room(self, conversation: ConversationKey) -> _Room:
        if conversation.kind is not ConversationKind.ROOM:
            raise ConfigurationError(f"{conversation.handle} is not a room")
        room = self._rooms.get(conversation.handle)
        if room is None:
            raise ConfigurationError(f"{self._account_id} is not in the room {conversation.handle}; join it first")
        if not room.present:
            raise NotConnectedError(f"{conversation.handle} is being joined again; try later")
        return room

    async def join_room(self, room: str, nick: str | None = None) -> ConversationKey:
        """Joins ``room`` (``room@service``) as ``nick`` (default: the account's user name); returns once
        the room's history (deduplicated by the core through the room's stanza-ids) has arrived.
        A new room is created and configured as an instant room (XEP-0045 10.1.2)."""
        client = self._ready_client()
        try:
            jid = parse_jid(normalize_handle(room))
        except ConfigurationError as exc:
            raise ConfigurationError(f"cannot join {room!r}: {exc}") from None
        if not jid.localpart or jid.resource:
            raise ConfigurationError(f"cannot join {room!r}: a room address is room@conference.example.org")
        wanted = (nick or "").strip() or self._default_nick
        state = self._rooms.get(jid.bare)
        # A join under way (the rejoin after a connect, or another caller's): wait for it, never join twice.
        running = state.rejoin if state is not None else None
        if running is not None and not running.done():
            await asyncio.shield(running)
        elif state is not None and state.joined is not None and not state.present:
            with contextlib.suppress(Exception):
                await asyncio.shield(state.joined)
        state = self._rooms.get(jid.bare)
        if state is not None and state.present:
            return self._room_key(state)  # already in (a nick change is not supported here)
        new = state is None
        if state is None:
            state = self._rooms[jid.bare] = _Room(jid.bare, wanted)
        state.nick = wanted
        try:
            await self._join(client, state)
        except BaseException:
            if new:
                self._rooms.pop(jid.bare, None)
            raise
        return self._room_key(state)

    async def _rejoin(self, client: Any, room: _Room) -> None:
        try:
            await self._join(client, room)
        except ProtocolError as exc:  # the room refused us: stop wanting it
            self._rooms.pop(room.jid, None)
            self._warn(str(exc))
            self._emit(RoomLeft(account_id=self._account_id, conversation=self._room_key(room), reason=str(exc)))
        except Exception as exc:
            self._warn(f"could not join {room.jid}: {exc}")

    async def _join(self, client: Any, room: _Room) -> None:
        room.joined = joined = asyncio.get_running_loop().create_future()
        room.present = room.history_done = room.created = False
        room.occupants.clear()
        position = self._positions.get(room.jid)
        # With a known archive position the room's MAM fills the gap exactly (live messages carry their
        # positions once it is complete); else the join history is the first sync, positions and all.
        if position is None:
            self._caught_up.add(room.jid)
        else:
            self._caught_up.discard(room.jid)
        presence = client.make_presence(pto=f"{room.jid}/{room.nick}")
        x = ET.SubElement(presence.xml, f"{{{mapping.NS_MUC}}}x")
        ET.SubElement(x, f"{{{mapping.NS_MUC}}}history", maxstanzas="0" if position else str(JOIN_HISTORY))
        presence.send()
        try:
            async with asyncio.timeout(JOIN_TIMEOUT):
                await joined
        except TimeoutError:
            raise NetworkError(f"{room.jid} did not complete the join within {JOIN_TIMEOUT:g} s") from None
        finally:
            room.joined = None
        if room.created:
            await self._configure_instant_room(client, room)
        self._emit_members(room)
        if position is not None:
            try:
                await self._sync_archive(client, room.jid)
            except Exception as exc:
                self._warn(f"could not fetch the archive of {room.jid}: {exc!r}")

    async def _configure_instant_room(self, client: Any, room: _Room) -> None:
        """Unlocks a room we just created by accepting the default configuration (an empty form)."""
        iq = client.make_iq_set(ito=room.jid)
        query = ET.Element(f"{{{mapping.NS_MUC_OWNER}}}query")
        ET.SubElement(query, f"{{{mapping.NS_DATA}}}x", type="submit")
        iq.xml.append(query)
        try:
            await iq.send(timeout=SEND_TIMEOUT)
        except Exception as exc:
            raise ProtocolError(f"could not configure the new room {room.jid}: {exc}") from None
        room.created = False
        log.info("%s: created the room %s", self._account_id, room.jid)

    def _emit_members(self, room: _Room) -> None:
        self._emit(
            RoomMembers(
                account_id=self._account_id, conversation=self._room_key(room), members=tuple(sorted(room.occupants))
            )
        )

    def _on_room_presence(self, room: _Room, stanza: Any, sender: Jid) -> None:
        if (stanza.xml.get("type") or "") == "error":
            reason = mapping.error_of(stanza)
            if room.joined is not None and not room.joined.done():
                room.joined.set_exception(ProtocolError(f"cannot join {room.jid} as {room.nick}: {reason}"))
            else:
                self._warn(f"{room.jid}: {reason}")
            return
        occupant = mapping.occupant_of(stanza)
        if occupant is None or not occupant.nick:
            return
        if "110" in occupant.codes or occupant.nick == room.nick:
            self._on_own_room_presence(room, occupant)
            return
        if occupant.available:
            room.occupants[occupant.nick] = occupant.real_jid
        else:
            room.occupants.pop(occupant.nick, None)
        if room.history_done:
            self._emit_members(room)

    def _on_own_room_presence(self, room: _Room, occupant: mapping.Occupant) -> None:
        key = self._room_key(room)
        if occupant.available:
            room.nick = occupant.nick  # the room may have changed it (status 210)
            room.occupants[occupant.nick] = self._own.bare
            room.created = room.created or "201" in occupant.codes
            if not room.present:
                room.present = True
                self._emit(RoomJoined(account_id=self._account_id, conversation=key, nick=room.nick))
            return
        room.occupants.pop(occupant.nick, None)
        if "303" in occupant.codes and occupant.new_nick:  # our nick changed; the new one follows
            room.nick = occupant.new_nick
            return
        room.present = False
        if room.leaving is not None:
            if not room.leaving.done():
                room.leaving.set_result(None)
            return
        reason = {
            "301": "banned from the room",
            "307": "kicked from the room",
            "321": "removed from the room (affiliation changed)",
            "322": "removed from the room (members only)",
            "332": "the room's service shut down",
        }
        why = next((reason[code] for code in sorted(occupant.codes) if code in reason), "removed from the room")
        self._rooms.pop(room.jid, None)
        if room.joined is not None and not room.joined.done():
            room.joined.set_exception(ProtocolError(f"cannot join {room.jid}: {why}"))
        self._emit(RoomLeft(account_id=self._account_id, conversation=key, reason=why))

    def _on_room_message(self, stanza: Any) -> None:
        sender = mapping.sender_of(stanza)
        room = self._rooms.get(sender.bare)
        if room is None:
            return  # a room we are not in (any more)
        subject = mapping.subject_of(stanza)
        if subject is not None and mapping.body_of(stanza) is None:
            self._on_room_subject(room, subject, sender.resource)
            return
        problems: list[str] = []
        event = mapping.room_message(
            stanza,
            self._ctx,
            problems,
            room=room.jid,
            own_nick=room.nick,
            real_jid=room.occupants.get(sender.resource),
            own_keys=self._room_keys,
            history=not room.history_done,
        )
        for problem in problems:
            self._warn(problem)
        if event is not None and event.idempotency_key is not None:
            self._room_keys.discard(event.idempotency_key)
        self._emit_live(room.jid, stanza, event)

    def _on_room_subject(self, room: _Room, subject: str, nick: str) -> None:
        """The subject ends the join history (XEP-0045 7.2.15); later ones are topic changes."""
        if room.topic_waiter is not None and nick == room.nick and not room.topic_waiter[1].done():
            room.topic_waiter[1].set_result(None)
        changed = subject != room.subject
        room.subject = subject
        if not room.history_done:
            room.history_done = True
            if room.joined is not None and not room.joined.done():
                room.joined.set_result(None)
        if changed:
            self._emit(
                RoomTopic(
                    account_id=self._account_id, conversation=self._room_key(room), topic=subject, set_by=nick or None
                )
            )

    async def leave_room(self, room: ConversationKey) -> None:
        state = self._rooms.get(room.handle)
        if state is None:
            return
        client = self._client
        if self._connected and client is not None and state.present:
            state.leaving = leaving = asyncio.get_running_loop().create_future()
            client.send_presence(pto=f"{state.jid}/{state.nick}", ptype="unavailable")
            with contextlib.suppress(TimeoutError, Exception):
                async with asyncio.timeout(SEND_TIMEOUT):
                    await leaving
        self._rooms.pop(room.handle, None)
        state.present = False
        self._emit(RoomLeft(account_id=self._account_id, conversation=self._room_key(state), reason="left"))

    async def set_topic(self, room: ConversationKey, topic: str) -> None:
        """Sets the room's subject; returns once the room has accepted it (raises ``ProtocolError`` if not)."""
        client = self._ready_client()
        state = self._joined_room(room)
        key = secrets.token_hex(8)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.topic_waiter = (key, waiter)
        message = client.make_message(mto=state.jid, mtype="groupchat")
        message["id"] = key
        ET.SubElement(message.xml, f"{{{mapping.NS_CLIENT}}}subject").text = topic
        message.send()
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await waiter
        except TimeoutError:
            raise NetworkError(f"{state.jid} did not confirm the topic within {SEND_TIMEOUT:g} s") from None
        finally:
            state.topic_waiter = None

    def _reset_rooms(self, error: Exception) -> None:
        """The connection is gone: every room is to be joined again on the next connect."""
        for room in self._rooms.values():
            room.present = room.history_done = False
            for future in (room.joined, room.leaving, room.topic_waiter[1] if room.topic_waiter else None):
                if future is not None and not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: no "never retrieved" warning when nobody waits

    # ------------------------------------------------------------------------------- roster edits

    async def add_contact(self, handle: str, name: str | None = None, groups: tuple[str, ...] = ()) -> None:
        client = self._ready_client()
        jid = normalize_handle(handle)
        await client.update_roster(jid, name=name or "", groups=list(groups), timeout=SEND_TIMEOUT)
        client.send_presence_subscription(pto=jid)

    async def remove_contact(self, handle: str) -> None:
        client = self._ready_client()
        await client.del_roster_item(normalize_handle(handle))

    async def answer_subscription(self, handle: str, accept: bool) -> None:
        client = self._ready_client()
        jid = normalize_handle(handle)
        client.send_presence(pto=jid, ptype="subscribed" if accept else "unsubscribed")
        if accept:
            item = client.client_roster[jid]
            if not item["to"] and not item["pending_out"]:
                client.send_presence_subscription(pto=jid)

    # ------------------------------------------------------------------------------------ helpers

    def _spawn(self, coroutine: Any, what: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine, name=f"{self._account_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self._account_id, message)
        self._emit(AdapterWarning(account_id=self._account_id, message=message))

    def _emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self._account_id, type(event).__name__)
