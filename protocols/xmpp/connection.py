"""The XMPP connection: one ``lib.Client`` per successful ``connect()``, the login and its failures, and
the end of the stream.

A reconnect builds a fresh client and never resumes the old stream (XEP-0198 resumption is off),
because the core re-sends its pending messages itself; a resumed stream would send them a second time.

Security defaults: TLS with certificate verification (the account's CA file, else the system CAs);
STARTTLS, or direct TLS with ``direct_tls``; an unencrypted stream only with ``allow_plaintext`` (and
then SCRAM only, never PLAIN); a pinned certificate is checked before SASL. The password never appears
in a message or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aggregator.api import (
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    ConnectionLost,
    Credentials,
    NetworkError,
    NotConnectedError,
    PlaintextRefusedError,
)
from protocols.certificates import accept_pinned_certificate, pin_refusal, presented_certificate, unverified_for_pin
from protocols.xmpp import mapping
from protocols.xmpp.addresses import DEFAULT_DIRECT_TLS_PORT, DEFAULT_PORT
from protocols.xmpp.lib import Client
from protocols.xmpp.mapping import StanzaError
from protocols.xmpp.session import Session

log = logging.getLogger(__name__)

#: Seconds for the whole login (TCP, TLS, SASL, bind, roster) and for a polite stream close.
CONNECT_TIMEOUT = 30.0
DISCONNECT_TIMEOUT = 2.0

T = TypeVar("T")

_NOT_RETRYABLE_STREAM_ERRORS = frozenset({"conflict", "not-authorized", "host-unknown", "policy-violation"})


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the features do at the connection's turns."""

    register: Callable[[Client, Callable[[str, Callable[[ET.Element], None]], Callable[[ET.Element], None]]], None]
    """Registers the features' stanza handlers on a new client, each wrapped by the given guard."""
    set_up: Callable[[Client], Awaitable[None]]
    """The session set-up that completes the login (roster, carbons, presence, catch-up); raising fails it."""
    ready: Callable[[Client], None]
    """After the login succeeded (e.g. rejoin the rooms)."""
    dropped: Callable[[Exception, Exception], None]
    """The connection is gone (lost or closed): fail the sends awaiting the server's ack with the first
    error, what else waits on it with the second, and forget the connection's live state."""


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


class Connection:
    """Connects, logs in, reports the loss of the connection and closes it."""

    def __init__(self, session: Session, hooks: Hooks) -> None:
        settings = session.settings
        if settings.ca_file is not None and not settings.ca_file.is_file():
            raise ConfigurationError(f"the CA file {settings.ca_file} does not exist or is not a file")
        resource = settings.options.get("resource", "").strip()
        self._resource = resource or f"aggregator-{secrets.token_hex(3)}"
        self._s = session
        self._hooks = hooks
        self._login: _Login | None = None
        self._lost_reported = False
        self._stream_error: str | None = None

    def _make_client(self, password: str) -> Client:
        s, settings = self._s, self._s.settings
        client = Client(f"{s.own.bare}/{self._resource}", password, direct_tls=s.direct_tls)
        if settings.allow_plaintext:
            client.allow_unencrypted_scram()
        if settings.pinned_certificate is not None:  # checked before SASL (_pin_refused)
            unverified_for_pin(client.ssl_context, settings.pinned_certificate)
        elif settings.ca_file is not None:
            client.set_ca_file(settings.ca_file)
            accept_pinned_certificate(client.ssl_context, settings.ca_file)
        client.on_library_exception(self._library_exception)
        events: dict[str, Callable[[object], None]] = {
            "connection_failed": self._on_connection_failed,
            "reconnect_delay": self._on_reconnect_delay,
            "ssl_invalid_chain": self._on_ssl_invalid_chain,
            "ssl_cert": self._on_ssl_cert,
            "no_auth": self._on_no_auth,
            "session_start": self._on_session_start,
            "disconnected": self._on_disconnected,
        }
        for event, handler in events.items():
            client.on_event(event, self._guarded(client, event, handler))
        stanzas: dict[str, Callable[[ET.Element], None]] = {
            "failed_auth": self._on_failed_auth,
            "stream_error": self._on_stream_error,
        }
        for event, stanza_handler in stanzas.items():
            client.on_stanza(event, self._guarded(client, event, stanza_handler))

        def guard(event: str, handler: Callable[[ET.Element], None]) -> Callable[[ET.Element], None]:
            return self._guarded(client, event, handler)

        self._hooks.register(client, guard)
        client.on_stream_features("aggregator plaintext guard", self._guarded_features(client))
        return client

    def _guarded(self, client: Client, event: str, handler: Callable[[T], None]) -> Callable[[T], None]:
        """``handler`` for events of ``client`` only while it is ours; errors become warnings."""

        def run(data: T) -> None:
            if client is not self._s.client:
                return
            try:
                handler(data)
            except StanzaError as exc:
                self._s.warn(f"ignored a malformed stanza ({event}): {exc}")
            except Exception as exc:  # whatever the server sends, the adapter keeps running
                log.exception("%s: handling %s failed", self._s.account_id, event)
                self._s.warn(f"could not handle {event}: {exc!r}")

        return run

    def _guarded_features(self, client: Client) -> Callable[[ET.Element], bool]:
        def run(features: ET.Element) -> bool:
            if client is not self._s.client:
                return False
            try:
                return self._on_stream_features(client, features)
            except Exception as exc:
                log.exception("%s: handling features failed", self._s.account_id)
                self._s.warn(f"could not handle features: {exc!r}")
                return False

        return run

    def _library_exception(self, exc: Exception) -> None:
        log.error("%s: slixmpp reported an error", self._s.account_id, exc_info=exc)
        self._s.warn(f"the XMPP library failed on input: {exc!r}")

    async def connect(self, credentials: Credentials) -> None:
        s = self._s
        if s.connected:
            return
        await self.close(polite=True)  # drop what is left of an earlier, lost connection
        if not credentials.password:
            raise AuthenticationError(f"{s.own.bare}: no password given")
        self._lost_reported = False
        self._stream_error = None
        self._login = login = _Login()
        s.client = client = self._make_client(credentials.password)
        client.connect(s.server)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await login.future
        except TimeoutError:
            await self.close(polite=False)  # no session to end politely
            raise NetworkError(f"{s.where} did not complete the login within {CONNECT_TIMEOUT:g} s") from None
        except CertificateError as exc:
            await self.close(polite=False)
            raise await self._with_presented(exc) from None
        except BaseException:
            await self.close(polite=False)  # no session to end politely
            raise
        finally:
            self._login = None
        s.connected = True
        log.info("%s connected to %s as %s", s.account_id, s.where, client.bound_jid)

    def _fail_login(self, error: BaseException) -> None:
        login = self._login
        if login is not None and not login.future.done():
            login.fail(error)
            client = self._s.client
            if client is not None:
                with contextlib.suppress(Exception):
                    client.cancel_connection_attempt()
                with contextlib.suppress(Exception):
                    client.abort()

    def _on_connection_failed(self, error: object) -> None:
        """One TCP/TLS attempt failed; slixmpp tries the next address, then reschedules (reconnect_delay)."""
        if self._login is None:
            return
        if isinstance(error, ssl.SSLCertVerificationError):
            self._login.certificate_problem = error.verify_message or str(error)
        self._login.last_error = error if isinstance(error, BaseException | str) else str(error)

    def _on_reconnect_delay(self, _delay: object) -> None:
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
        self._fail_login(NetworkError(f"cannot reach {self._s.where}: {reason}"))

    def _certificate_error(self, problem: str) -> CertificateError:
        ca_file = self._s.settings.ca_file
        hint = (
            f" (CA file: {ca_file})"
            if ca_file
            else " (checked against the system's CAs; set a CA file for a private CA)"
        )
        return CertificateError(
            f"the TLS certificate of {self._s.where} is not trusted: {problem}{hint}", None, problem
        )

    async def _with_presented(self, error: CertificateError) -> CertificateError:
        """The error with the certificate the server presents, read over a second, unverified handshake
        (STARTTLS unless direct TLS) that never logs in. Without SRV lookup: the configured server, or
        the domain on the default port."""
        if error.certificate is not None:
            return error
        s = self._s
        host, port = s.server or (s.own.domain, DEFAULT_DIRECT_TLS_PORT if s.direct_tls else DEFAULT_PORT)
        presented = await presented_certificate(
            host,
            port,
            problem=error.problem,
            server_name=s.own.domain,
            xmpp_domain=None if s.direct_tls else s.own.domain,
        )
        return CertificateError(str(error), presented, error.problem)

    def _on_ssl_invalid_chain(self, error: object) -> None:
        if isinstance(error, ssl.SSLCertVerificationError):
            problem = error.verify_message or str(error)
        elif isinstance(error, ssl.SSLError):
            problem = str(error.reason or error)
        else:
            problem = str(error)
        self._fail_login(self._certificate_error(problem))

    def _on_ssl_cert(self, _pem: object) -> None:
        client = self._s.client
        if client is not None:
            self._pin_refused(client)  # as early as possible; _on_stream_features checks again before SASL

    def _pin_refused(self, client: Client) -> bool:
        """With a pinned certificate: fails the login unless the stream's TLS peer presented exactly it."""
        pin = self._s.settings.pinned_certificate
        ssl_object = client.ssl_object()
        if pin is None or ssl_object is None:
            return False
        refused = pin_refusal(ssl_object, pin, self._s.where)
        if refused is not None:
            self._fail_login(refused)
        return refused is not None

    def _on_stream_features(self, client: Client, features: ET.Element) -> bool:
        """Refuses an unencrypted stream, or a certificate that is not the pinned one, before SASL unless
        ``allow_plaintext`` (runs before slixmpp's own). True: leave slixmpp nothing to negotiate."""
        settings = self._s.settings
        encrypted = client.ssl_object() is not None
        if self._pin_refused(client):
            return True
        if encrypted or (settings.allow_plaintext and settings.pinned_certificate is None):
            return False
        offers_starttls = features.find("{urn:ietf:params:xml:ns:xmpp-tls}starttls") is not None
        if offers_starttls and client.starttls_enabled:
            return False
        self._fail_login(
            PlaintextRefusedError(
                f"{self._s.where} offers no encryption (no STARTTLS); "
                "allow plaintext for this account to connect anyway"
            )
        )
        return True

    def _on_failed_auth(self, failure: ET.Element) -> None:
        condition = mapping.failure_condition(failure)
        self._fail_login(AuthenticationError(f"{self._s.where} refused the login of {self._s.own.bare} ({condition})"))

    def _on_no_auth(self, _data: object) -> None:
        self._fail_login(AuthenticationError(f"{self._s.where} offers no login method this client can use safely"))

    def _on_session_start(self, _data: object) -> None:
        client = self._s.client
        if client is not None:
            self._s.spawn(self._start_session(client), "session start")

    async def _start_session(self, client: Client) -> None:
        login = self._login
        try:
            await self._hooks.set_up(client)
        except Exception as exc:
            if login is not None:
                self._fail_login(NetworkError(f"{self._s.where} did not complete the session set-up: {exc!r}"))
            return
        if login is not None:
            login.succeed()
        self._hooks.ready(client)

    def _on_stream_error(self, error: ET.Element) -> None:
        self._stream_error = mapping.failure_condition(error)
        if self._login is not None:
            if self._stream_error == "not-authorized":
                self._fail_login(AuthenticationError(f"{self._s.where} refused the login of {self._s.own.bare}"))
            else:
                self._fail_login(NetworkError(f"{self._s.where} ended the stream: {self._stream_error}"))

    def _on_disconnected(self, reason: object) -> None:
        s = self._s
        if self._login is not None:
            if s.client is not None and s.client.is_connecting():
                # A failed STARTTLS handshake closes the transport before start_tls() sees the SSL error;
                # that error (ssl_invalid_chain) or a second "disconnected" settles the login.
                return
            self._fail_login(NetworkError(f"{s.where} closed the connection during the login"))
            return
        if not s.connected:
            return
        s.connected = False
        self._hooks.dropped(
            NetworkError(f"the connection to {s.where} dropped before the server confirmed"),
            NetworkError(f"the connection to {s.where} dropped"),
        )
        if self._lost_reported:
            return
        self._lost_reported = True
        condition = self._stream_error
        why = f"the server ended the stream ({condition})" if condition else f"connection lost ({reason or 'closed'})"
        log.info("%s: %s", s.account_id, why)
        s.emit(
            ConnectionLost(
                account_id=s.account_id,
                reason=f"{s.where}: {why}",
                retryable=condition not in _NOT_RETRYABLE_STREAM_ERRORS,
            )
        )

    async def close(self, *, polite: bool) -> None:
        """Drops the connection; ``polite`` ends the stream and waits (briefly) for the server's end."""
        s = self._s
        if self._login is not None:  # a connect() still under way fails now
            self._login.fail(NotConnectedError(f"{s.account_id}: disconnected while connecting"))
        client, s.client = s.client, None
        s.connected = False
        self._hooks.dropped(
            NotConnectedError(f"{s.account_id} disconnected"), NotConnectedError(f"{s.account_id} disconnected")
        )
        s.cancel_tasks()
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.cancel_connection_attempt()
        if polite and client.has_transport:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(DISCONNECT_TIMEOUT + 1):
                    await client.disconnect(DISCONNECT_TIMEOUT)
        with contextlib.suppress(Exception):
            client.abort()
        await client.stop_send_loop()
