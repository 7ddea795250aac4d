"""``IrcConnection``: the thin asyncio transport under the sans-I/O ``IrcClient``.

It only moves bytes: opens TCP (TLS by default, verified), feeds what arrives to the client, writes the
client's lines through the flood queue, and checks the lag with PING (no PONG in time: lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from aggregator.api import CertificateError, ConfigurationError, NetworkError, PlaintextRefusedError
from protocols.certificates import accept_pinned_certificate, pin_refusal, presented_certificate, unverified_for_pin
from protocols.irc import events as ev
from protocols.irc.client import IrcClient
from protocols.irc.flood import SendQueue
from protocols.irc.message import IrcMessage

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15.0
#: Seconds of a stalled TLS handshake after which the port is probed for plaintext IRC.
PLAINTEXT_PROBE_AFTER = 1.0


async def speaks_plain_irc(host: str, port: int, timeout: float = 3.0) -> bool:
    """Whether ``host:port`` answers ``CAP LS 302`` in plaintext (nothing secret is sent)."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"CAP LS 302\r\n")
            line = await reader.readline()
            return b" CAP " in line or line.startswith((b":", b"NOTICE", b"PING", b"ERROR"))
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()


def _no_key_password() -> bytes:
    return b""  # an encrypted key is not unlocked (and never prompted for on the terminal)


def tls_context(
    ca_file: Path | None, client_cert: Path | None = None, client_key: Path | None = None
) -> ssl.SSLContext:
    """A verifying client context; ``ca_file`` (PEM) replaces the system trust store when given.

    ``client_cert`` (PEM with the certificate, and the key unless ``client_key`` names it) is presented to
    the server (SASL EXTERNAL). Unusable files raise ``ConfigurationError``.
    """
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot use the CA file {ca_file}: {exc}") from None
    accept_pinned_certificate(context, ca_file)
    if client_cert is not None:
        for path in (client_cert, client_key):
            if path is None:
                continue
            try:
                with path.open("rb"):
                    pass
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read the client certificate file {path}: {exc.strerror or exc}"
                ) from None
        try:
            context.load_cert_chain(
                str(client_cert), str(client_key) if client_key is not None else None, password=_no_key_password
            )
        except ssl.SSLError as exc:
            files = f"{client_cert}" + (f" and {client_key}" if client_key is not None else "")
            reason = f" ({exc.reason})" if exc.reason else ""
            raise ConfigurationError(
                f"cannot use the client certificate {files}: a PEM certificate with its unencrypted private key "
                f"is needed{reason}"
            ) from None
    return context


class IrcConnection:
    def __init__(
        self,
        client: IrcClient,
        host: str,
        port: int,
        *,
        on_events: Callable[[Sequence[ev.Event]], None],
        on_closed: Callable[[str], None],
        use_tls: bool = True,
        ca_file: Path | None = None,
        client_cert: Path | None = None,
        client_key: Path | None = None,
        pinned_certificate: str | None = None,
        lag_interval: float = 30.0,
        lag_timeout: float = 30.0,
        rate: float = 4.0,
        burst: int = 20,
    ) -> None:
        self.client = client
        self.host, self.port = host, port
        self._on_events = on_events
        self._on_closed = on_closed
        self._use_tls = use_tls
        self._ca_file = ca_file
        self._client_cert, self._client_key = client_cert, client_key
        self._pin = pinned_certificate
        self.lag_interval = lag_interval
        self.lag_timeout = lag_timeout
        self._queue: SendQueue[bytes] = SendQueue(rate, burst, time.monotonic())
        self._wake = asyncio.Event()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._last_pong = time.monotonic()
        self._tokens = itertools.count(1)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    async def open(self) -> None:
        """Connects (TLS unless plaintext was asked for) and starts reading and writing.

        Raises ``NetworkError``, ``CertificateError``, ``PlaintextRefusedError`` or ``ConfigurationError``.
        """
        context = tls_context(self._ca_file, self._client_cert, self._client_key) if self._use_tls else None
        if context is not None:
            unverified_for_pin(context, self._pin)  # checked below, before any line is sent
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                opening = asyncio.ensure_future(
                    asyncio.open_connection(
                        self.host, self.port, ssl=context, server_hostname=self.host if context else None, limit=2**16
                    )
                )
                if context is not None:
                    # A plaintext IRC port never answers a TLS hello (it waits for a line break):
                    # if the handshake stalls, ask the port in plain IRC what it is.
                    done, _ = await asyncio.wait([opening], timeout=PLAINTEXT_PROBE_AFTER)
                    if not done and await speaks_plain_irc(self.host, self.port):
                        opening.cancel()
                        raise PlaintextRefusedError(
                            f"{self.where} speaks plaintext IRC, not TLS; allow plaintext for this account "
                            "to connect without encryption"
                        )
                self._reader, self._writer = await opening
        except TimeoutError:
            raise NetworkError(f"cannot reach {self.where}: no answer in {CONNECT_TIMEOUT:g} s") from None
        except ssl.SSLCertVerificationError as exc:
            problem = str(exc.verify_message or exc)
            presented = await presented_certificate(self.host, self.port, problem=problem)
            raise CertificateError(
                f"the certificate of {self.where} is not trusted: {problem}", presented, problem
            ) from None
        except ssl.SSLError as exc:
            if "WRONG_VERSION_NUMBER" in str(exc) or "wrong version number" in str(exc).lower():
                raise PlaintextRefusedError(
                    f"{self.where} does not speak TLS on this port; allow plaintext for this account "
                    "to connect without encryption"
                ) from None
            raise NetworkError(f"TLS with {self.where} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise NetworkError(f"cannot reach {self.where}: {exc.strerror or exc}") from None
        if context is not None and self._pin is not None:
            refused = pin_refusal(self._writer.get_extra_info("ssl_object"), self._pin, self.where)
            if refused is not None:
                self._writer.transport.abort()
                self._reader = self._writer = None
                raise refused
        self._last_pong = time.monotonic()
        self._tasks = [
            asyncio.create_task(self._read_loop(), name=f"irc-read {self.where}"),
            asyncio.create_task(self._write_loop(), name=f"irc-write {self.where}"),
            asyncio.create_task(self._lag_loop(), name=f"irc-lag {self.where}"),
        ]

    def send(self, messages: list[IrcMessage]) -> None:
        """Queues ``messages`` in order. Each is serialised first: if one cannot be a line (a CR, LF or NUL
        in a parameter...), ``ValueError`` is raised and none of them is queued."""
        lines = [message.to_bytes() for message in messages]
        for line in lines:
            self._queue.push(line)
        if lines:
            self._wake.set()

    @property
    def local_address(self) -> str | None:
        """Our end's IP address on this connection (what a DCC offer gives the peer to connect to)."""
        if self._writer is None:
            return None
        name = self._writer.get_extra_info("sockname")
        return str(name[0]) if name else None

    @property
    def is_open(self) -> bool:
        return self._writer is not None and not self._writer.is_closing() and not self._closing

    async def close(self, quit_message: IrcMessage | None = None) -> None:
        """Closes the connection (sending ``quit_message`` first, past the queue). Idempotent."""
        self._closing = True
        writer, self._writer = self._writer, None
        if writer is not None and quit_message is not None and not writer.is_closing():
            with contextlib.suppress(Exception):
                writer.write(quit_message.to_bytes())
                async with asyncio.timeout(1):
                    await writer.drain()
        tasks, self._tasks = self._tasks, []
        current = asyncio.current_task()
        for task in tasks:
            if task is not current:
                task.cancel()
        others = [task for task in tasks if task is not current]
        if others:
            await asyncio.wait(others)
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await writer.wait_closed()

    def abort(self, reason: str) -> None:
        """Drops the connection now (the server misbehaves); ``on_closed(reason)`` is called once."""
        self._lost(reason)

    def _lost(self, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        writer = self._writer
        if writer is not None:
            writer.close()
        self._on_closed(reason)

    async def _read_loop(self) -> None:
        reader = self._reader
        assert reader is not None
        reason = f"{self.where} closed the connection"
        try:
            while data := await reader.read(65536):
                self._last_pong = time.monotonic()  # any line shows the server is alive
                events = self.client.feed(data)
                for event in events:
                    if isinstance(event, ev.Send):
                        try:
                            self.send([event.message])
                        except ValueError:
                            log.warning("%s: dropped an unsendable %s line", self.where, event.message.command)
                others = [event for event in events if not isinstance(event, ev.Send)]
                if others:
                    self._on_events(others)
        except (OSError, ssl.SSLError) as exc:
            reason = f"connection to {self.where} lost: {getattr(exc, 'strerror', None) or exc}"
        except Exception:  # the client must never take the connection down silently
            log.exception("IRC reader for %s failed", self.where)
            reason = f"internal error while reading from {self.where}"
        self._lost(reason)

    async def _write_loop(self) -> None:
        while True:
            writer = self._writer
            if writer is None or writer.is_closing():
                return
            ready = self._queue.pop_ready(time.monotonic())
            for line in ready:
                writer.write(line)
            if ready:
                try:
                    await writer.drain()
                except (OSError, ssl.SSLError) as exc:
                    self._lost(f"connection to {self.where} lost while sending: {exc}")
                    return
            delay = self._queue.delay(time.monotonic())
            self._wake.clear()
            if delay is None:
                await self._wake.wait()
            elif delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()

    async def _lag_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lag_interval)
            sent = time.monotonic()
            self.send(self.client.ping(f"lag{next(self._tokens)}"))
            self.send(self.client.reclaim_nick())
            await asyncio.sleep(self.lag_timeout)
            if self._last_pong < sent:
                self._lost(f"no reply from {self.where} for {time.monotonic() - sent:.0f} s")
                return
