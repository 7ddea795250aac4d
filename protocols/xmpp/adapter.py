"""``XmppAdapter``: the ``Adapter`` for XMPP, on slixmpp.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
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
    MessageState,
    MessageStateChanged,
    NetworkError,
    NotConnectedError,
    OutgoingMessage,
    PlaintextRefusedError,
    Presence,
    PresenceChanged,
    PresenceKind,
    RosterItemChanged,
    RosterItemRemoved,
    RosterSnapshot,
    SendReceipt,
    SubscriptionRequested,
    TypingChanged,
    UnsupportedError,
)
from protocols.xmpp import mapping
from protocols.xmpp.addresses import Jid, normalize_address, normalize_handle, parse_jid, parse_server
from protocols.xmpp.mapping import StanzaError

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
        if self._settings.ca_file is not None:
            client.ca_certs = self._settings.ca_file
        client.exception = self._library_exception
        handlers: dict[str, Callable[[Any], None]] = {
            "connection_failed": self._on_connection_failed,
            "reconnect_delay": self._on_reconnect_delay,
            "ssl_invalid_chain": self._on_ssl_invalid_chain,
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
            await self.disconnect()
            raise NetworkError(f"{self._where} did not complete the login within {CONNECT_TIMEOUT:g} s") from None
        except BaseException:
            await self.disconnect()
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
        return CertificateError(f"the TLS certificate of {self._where} is not trusted: {problem}{hint}")

    def _on_ssl_invalid_chain(self, error: Any) -> None:
        if isinstance(error, ssl.SSLCertVerificationError):
            problem = error.verify_message or str(error)
        elif isinstance(error, ssl.SSLError):
            problem = str(error.reason or error)
        else:
            problem = str(error)
        self._fail_login(self._certificate_error(problem))

    def _on_stream_features(self, features: Any) -> None:
        """Refuses an unencrypted stream before SASL unless ``allow_plaintext`` (runs before slixmpp's own)."""
        client = self._client
        encrypted = client.transport is not None and client.transport.get_extra_info("ssl_object") is not None
        if encrypted or self._settings.allow_plaintext:
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
        try:
            roster = await client.get_roster(timeout=CONNECT_TIMEOUT)
            self._on_roster(roster, snapshot=True)
            self._send_own_presence(client)
            try:
                await client.plugin["xep_0280"].enable(timeout=CONNECT_TIMEOUT)
            except Exception as exc:  # a server without carbons is still usable
                log.info("%s: carbons not enabled: %r", self._account_id, exc)
        except Exception as exc:
            if login is not None:
                self._fail_login(NetworkError(f"{self._where} did not complete the session set-up: {exc!r}"))
            return
        if login is not None:
            login.succeed()

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
        if self._login is not None:  # a connect() still under way fails now
            self._login.fail(NotConnectedError(f"{self._account_id}: disconnected while connecting"))
        client, self._client = self._client, None
        self._connected = False
        self._fail_acks(NotConnectedError(f"{self._account_id} disconnected"))
        self._clear_presence()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.cancel_connection_attempt()
        if client.transport is not None:
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
        if mtype in ("error", "groupchat"):  # errors: see message_error; rooms: not yet supported
            return
        if mapping.carbon_of(stanza) is not None:
            return  # handled by the carbon events
        problems: list[str] = []
        event = mapping.message_received(stanza, self._ctx, problems)
        for problem in problems:
            self._warn(problem)
        if event is not None:
            self._emit(event)

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
        if event is not None:
            self._emit(event)

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
        presence = mapping.presence_of(stanza)
        if presence is None:
            return
        sender = mapping.sender_of(stanza)
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
        peer = self._peer(conversation)
        key = message.idempotency_key
        body = f"/me {message.body}" if message.kind is MessageKind.ACTION else message.body
        stanza = client.make_message(mto=str(peer), mbody=body, mtype="chat")
        stanza["id"] = key
        stanza["origin_id"]["id"] = key
        stanza["request_receipt"] = True
        stanza["chat_state"] = "active"
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

    def _spawn(self, coroutine: Any, what: str) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine, name=f"{self._account_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self._account_id, message)
        self._emit(AdapterWarning(account_id=self._account_id, message=message))

    def _emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self._account_id, type(event).__name__)
