"""What every feature module of one Matrix account shares: who the account is, its homeserver, where
events go, the client of the current connection, and how a failed request becomes an ``AccountError``."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp

from aggregator.api import (
    AccountError,
    AccountSettings,
    AdapterEvent,
    AdapterWarning,
    CertificateError,
    ConfigurationError,
    EventSink,
    NetworkError,
    NotConnectedError,
    ProtocolError,
)
from protocols.certificates import accept_pinned_certificate, changed_error, presented_certificate
from protocols.matrix.addresses import homeserver_url, normalize_address
from protocols.matrix.lib import Client, Failure
from protocols.matrix.pinning import PinMismatch, PinnedFingerprint

log = logging.getLogger(__name__)

#: Seconds for any single request.
REQUEST_TIMEOUT = 30.0
TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)

T = TypeVar("T")


def _ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot read the CA file {ca_file}: {exc}") from None
    accept_pinned_certificate(context, ca_file)
    return context


def _certificate_problem(exc: aiohttp.ClientConnectorCertificateError) -> str:
    error = exc.certificate_error
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return str(error.verify_message)
    return str(error)


class Session:
    """The account's identity, homeserver, sink and live client. Raises ``ConfigurationError`` for
    unusable settings."""

    def __init__(self, settings: AccountSettings, sink: EventSink) -> None:
        self.settings = settings
        self.account_id = settings.account_id
        self._sink = sink
        self.user_id = normalize_address(settings.address)
        self.homeserver = homeserver_url(settings.server, self.user_id)
        self.ssl: ssl.SSLContext | PinnedFingerprint = (
            _ssl_context(settings.ca_file)
            if settings.pinned_certificate is None
            else PinnedFingerprint(settings.pinned_certificate)  # checked before any request is written
        )
        self.data_dir = settings.data_dir
        self.client: Client | None = None
        self.connected = False

    def require_client(self) -> Client:
        if not self.connected or self.client is None:
            raise NotConnectedError(f"{self.account_id} is not connected")
        return self.client

    async def call(self, request: Awaitable[T]) -> T:
        """Awaits a request, turning transport failures into ``NetworkError`` (or a certificate error)."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT + 5):
                return await request
        except TRANSPORT_ERRORS as exc:
            raise self.transport_error(exc) from None

    def transport_error(self, exc: BaseException) -> AccountError:
        pin = self.settings.pinned_certificate
        if isinstance(exc, PinMismatch) and pin is not None:
            return changed_error(self.homeserver, pin, exc.presented.hex(), None)
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            problem = _certificate_problem(exc)
            return CertificateError(f"the certificate of {self.homeserver} is not trusted: {problem}", None, problem)
        if isinstance(exc, aiohttp.ClientConnectorSSLError):
            return NetworkError(f"TLS with {self.homeserver} failed: {exc.os_error}")
        if isinstance(exc, TimeoutError):
            return NetworkError(f"{self.homeserver} did not answer in time")
        if isinstance(exc, aiohttp.ClientConnectorError):
            return NetworkError(f"cannot reach {self.homeserver}: {exc.os_error.strerror or exc.os_error}")
        return NetworkError(f"connection to {self.homeserver} failed: {exc}")

    async def with_presented(self, error: AccountError) -> AccountError:
        """A certificate error with the certificate the homeserver presents (read without verifying)."""
        if not isinstance(error, CertificateError) or error.certificate is not None:
            return error
        parts = urlsplit(self.homeserver)
        if parts.scheme != "https" or not parts.hostname:
            return error
        presented = await presented_certificate(parts.hostname, parts.port or 443, problem=error.problem)
        return CertificateError(str(error), presented, error.problem)

    def error_reply(self, what: str, failure: Failure) -> AccountError:
        code = failure.code
        text = f"{self.homeserver} did not {what}: {failure.describe()}"
        if code == "M_LIMIT_EXCEEDED" or (code is not None and code.startswith("5")):
            return NetworkError(text)
        if code is None:
            return ProtocolError(f"{text}; is it a Matrix homeserver?")
        return ProtocolError(text)

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self.account_id, message)
        self.emit(AdapterWarning(account_id=self.account_id, message=message))

    def emit_or_skip(self, event: AdapterEvent | None) -> None:
        if event is not None:
            if isinstance(event, AdapterWarning):
                log.warning("%s: %s", self.account_id, event.message)
            self.emit(event)

    def emit(self, event: AdapterEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken sink must not stop the connection
            log.exception("%s: the event sink failed on %s", self.account_id, type(event).__name__)

    def same_user(self, user_id: str) -> bool:
        try:
            return normalize_address(user_id) == self.user_id
        except ConfigurationError:
            return False
