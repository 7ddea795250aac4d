"""DCC SEND: files straight between two IRC clients (the server only carries the offer, as CTCP).

An offer is ``\\x01DCC SEND <filename> <ip> <port> <size>[ <token>]\\x01``. ``ip`` is an IPv4 address as one
unsigned 32-bit number (or, from newer clients, an IPv6 address as text); the file name is quoted when it
has spaces. The receiver connects to ``ip:port`` and reads ``size`` bytes; classic senders also expect the
receiver to acknowledge the running total as a 4-byte big-endian number.

Reverse ("passive") DCC, for a sender behind NAT: the sender offers port ``0`` and a token; the receiver
listens and answers with the same offer carrying its own address and port and the token; the sender then
connects and sends. Both directions are implemented here as plain asyncio streams; the adapter carries the
CTCP lines. IRC has no server storage: a file can only move while both clients are online.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import shlex
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from aggregator.api import NetworkError, ProtocolError

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
#: The receiver acknowledges the running total at least this often (and at the end); senders that wait
#: for every acknowledgement (the classic, non "send-ahead" ones) get one per chunk they wrote anyway.
ACK_EVERY = 1024 * 1024
STALL_TIMEOUT = 60.0
CONNECT_TIMEOUT = 30.0
#: How long an offer of ours waits for the peer to connect (or, reversed, to answer with its port).
ACCEPT_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class DccOffer:
    """A DCC SEND offer as it travels in CTCP (``port`` 0 with a ``token``: a reverse offer)."""

    name: str
    host: str
    port: int
    size: int | None
    token: str | None = None

    @property
    def reverse(self) -> bool:
        return self.port == 0

    def ctcp(self) -> str:
        """The CTCP body (without the \\x01 delimiters)."""
        name = self.name.replace('"', "'")
        quoted = f'"{name}"' if " " in name else name
        address = ipaddress.ip_address(self.host)
        host = str(int(address)) if address.version == 4 else str(address)
        parts = ["DCC", "SEND", quoted, host, str(self.port), str(self.size if self.size is not None else 0)]
        if self.token:
            parts.append(self.token)
        return " ".join(parts)

    def url(self, nick: str) -> str:
        """The offer as the opaque URL a ``FileOffer`` carries (``dcc://host:port/name?size=&token=&nick=``)."""
        query = {"nick": nick}
        if self.size is not None:
            query["size"] = str(self.size)
        if self.token:
            query["token"] = self.token
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"dcc://{host}:{self.port}/{quote(self.name, safe='')}?{urlencode(query)}"


def parse_offer(ctcp: str) -> DccOffer:
    """A ``DCC SEND ...`` CTCP body; ``ProtocolError`` naming what is wrong."""
    try:
        parts = shlex.split(ctcp)
    except ValueError as exc:
        raise ProtocolError(f"unreadable DCC offer: {exc}") from None
    if len(parts) < 6 or [p.upper() for p in parts[:2]] != ["DCC", "SEND"]:
        raise ProtocolError("not a DCC SEND offer")
    name, host_text, port_text, size_text = parts[2:6]
    token = parts[6] if len(parts) > 6 else None
    try:
        host = (
            str(ipaddress.ip_address(int(host_text))) if host_text.isdigit() else str(ipaddress.ip_address(host_text))
        )
        port = int(port_text)
        size = int(size_text)
    except ValueError:
        raise ProtocolError(f"unreadable DCC offer address or size: {host_text} {port_text} {size_text}") from None
    if not 0 <= port <= 65535 or (port == 0 and not token):
        raise ProtocolError(f"invalid DCC port {port}")
    if port != 0 and 0 < port < 1024:
        raise ProtocolError(f"DCC offer on a privileged port ({port}) refused")
    if size < 0:
        raise ProtocolError("negative DCC file size")
    return DccOffer(name=name, host=host, port=port, size=size or None, token=token)


def offer_from_url(url: str) -> tuple[DccOffer, str]:
    """The offer and the peer's nick back from ``DccOffer.url``."""
    parts = urlsplit(url)
    if parts.scheme != "dcc" or parts.hostname is None or parts.port is None:
        raise ProtocolError(f"not a DCC offer: {url[:80]!r}")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    size = int(query["size"]) if query.get("size", "").isdigit() else None
    offer = DccOffer(unquote(parts.path.lstrip("/")), parts.hostname, parts.port or 0, size, query.get("token"))
    return offer, query.get("nick", "")


async def _read_exactly(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int | None, stall: float
) -> AsyncIterator[bytes]:
    received = acked = 0
    while size is None or received < size:
        want = CHUNK_BYTES if size is None else min(CHUNK_BYTES, size - received)
        try:
            async with asyncio.timeout(stall):
                chunk = await reader.read(want)
        except TimeoutError:
            raise NetworkError(f"the DCC transfer stalled (no data for {stall:g} s)") from None
        if not chunk:
            if size is None:
                return
            raise NetworkError(f"the sender closed the DCC connection after {received} of {size} bytes")
        received += len(chunk)
        if received - acked >= ACK_EVERY or received == size or len(chunk) < want:
            writer.write(struct.pack(">I", received & 0xFFFFFFFF))  # the classic acknowledgement
            acked = received
        yield chunk


async def receive(offer: DccOffer, *, stall: float = STALL_TIMEOUT) -> AsyncIterator[bytes]:
    """Connect to the sender of a (non-reverse) offer and read the file."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(offer.host, offer.port), CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise NetworkError(f"cannot reach the sender at {offer.host}:{offer.port} ({exc})") from None
    try:
        async for chunk in _read_exactly(reader, writer, offer.size, stall):
            yield chunk
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def receive_reverse(
    offer: DccOffer, answer: Callable[[DccOffer], Awaitable[None]], host: str, *, stall: float = STALL_TIMEOUT
) -> AsyncIterator[bytes]:
    """A reverse offer: listen on ``host``, ``answer`` the sender with our port and its token, read."""
    connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
        asyncio.get_running_loop().create_future()
    )

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if connected.done():
            writer.close()
        else:
            connected.set_result((reader, writer))

    server = await asyncio.start_server(accept, host, 0)
    try:
        port = server.sockets[0].getsockname()[1]
        await answer(DccOffer(offer.name, host, port, offer.size, offer.token))
        try:
            reader, writer = await asyncio.wait_for(connected, ACCEPT_TIMEOUT)
        except TimeoutError:
            raise NetworkError("the sender did not connect for the reverse DCC transfer") from None
    finally:
        server.close()
    try:
        async for chunk in _read_exactly(reader, writer, offer.size, stall):
            yield chunk
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _send_stream(path: Path, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    loop = asyncio.get_running_loop()
    with path.open("rb") as source:
        await loop.sendfile(writer.transport, source)  # the kernel's sendfile where it can
    if writer.can_write_eof():
        writer.write_eof()
    # The receiver acknowledges; wait for its last count (or its close) so nothing is cut short.
    with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
        await asyncio.wait_for(reader.read(), 10.0)


class Sending:
    """One file we offer: listen, hand the offer to ``announce``, send to the first connection."""

    def __init__(self, path: Path, name: str, size: int, host: str) -> None:
        self._path, self._name, self._size, self._host = path, name, size, host

    async def run(self, announce: Callable[[DccOffer], Awaitable[None]]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if done.done():
                writer.close()
                return
            try:
                await _send_stream(self._path, reader, writer)
                done.set_result(None)
            except OSError as exc:
                done.set_exception(NetworkError(f"the DCC transfer failed: {exc}"))
            finally:
                writer.close()

        server = await asyncio.start_server(serve, self._host, 0)
        try:
            port = server.sockets[0].getsockname()[1]
            await announce(DccOffer(self._name, self._host, port, self._size))
            try:
                await asyncio.wait_for(done, ACCEPT_TIMEOUT)
            except TimeoutError:
                raise NetworkError("the peer did not accept the file within 5 minutes") from None
        finally:
            server.close()

    async def connect_to(self, answer: DccOffer) -> None:
        """Reverse DCC: the receiver answered with its address; connect and send."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(answer.host, answer.port), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise NetworkError(f"cannot reach the receiver at {answer.host}:{answer.port} ({exc})") from None
        try:
            await _send_stream(self._path, reader, writer)
        finally:
            writer.close()
