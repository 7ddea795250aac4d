"""DCC SEND (issue 16, item 3): offers as the DCC description (modern.ircdocs.horse/dcc.html) writes them,
and the transfer itself both ways, the reverse (passive) form included, over loopback sockets."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aggregator.api import NetworkError, ProtocolError
from protocols.irc.dcc import DccOffer, Sending, offer_from_url, parse_offer, receive, receive_reverse

DATA = os.urandom(3 * 1024 * 1024 + 17)


@pytest.mark.parametrize(
    ("ctcp", "expected"),
    [
        ("DCC SEND file.txt 2130706433 5000 1234", DccOffer("file.txt", "127.0.0.1", 5000, 1234)),
        ('DCC SEND "my notes.txt" 3232235777 40000 9', DccOffer("my notes.txt", "192.168.1.1", 40000, 9)),
        ("DCC SEND movie.mkv ::1 4000 10", DccOffer("movie.mkv", "::1", 4000, 10)),
        ("DCC SEND photo.jpg 2130706433 0 555 77", DccOffer("photo.jpg", "127.0.0.1", 0, 555, "77")),
        ("DCC SEND unknown.bin 2130706433 6000 0", DccOffer("unknown.bin", "127.0.0.1", 6000, None)),
    ],
)
def test_offers_are_read_as_clients_write_them(ctcp: str, expected: DccOffer) -> None:
    assert parse_offer(ctcp) == expected


@pytest.mark.parametrize(
    "ctcp",
    [
        "DCC CHAT chat 2130706433 5000",
        "DCC SEND a.txt 2130706433 22 10",  # a privileged port: a classic trick to poke local services
        "DCC SEND a.txt 2130706433 0 10",  # reverse without a token
        "DCC SEND a.txt 2130706433 70000 10",
        "DCC SEND a.txt nowhere 5000 10",
        "DCC SEND a.txt 2130706433 5000 -1",
        'DCC SEND "unterminated 2130706433 5000 1',
    ],
)
def test_bad_offers_are_refused_with_a_reason(ctcp: str) -> None:
    with pytest.raises(ProtocolError):
        parse_offer(ctcp)


def test_an_offer_survives_the_trip_through_its_url() -> None:
    offer = DccOffer("../my file?.txt", "127.0.0.1", 5000, 42, "7")
    assert offer_from_url(offer.url("bob")) == (offer, "bob")
    assert parse_offer(offer.ctcp()) == DccOffer("../my file?.txt", "127.0.0.1", 5000, 42, "7")


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


async def test_a_file_goes_from_sender_to_receiver_intact(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(DATA)
    offered: asyncio.Queue[DccOffer] = asyncio.Queue()

    async def announce(offer: DccOffer) -> None:
        await offered.put(parse_offer(offer.ctcp()))  # as the peer would read it from the CTCP line

    sending = asyncio.create_task(Sending(path, "big.bin", len(DATA), "127.0.0.1").run(announce))
    offer = await offered.get()
    assert offer.name == "big.bin" and offer.size == len(DATA)
    data = await _collect(receive(offer))
    await sending
    assert hashlib.sha256(data).digest() == hashlib.sha256(DATA).digest()


async def test_the_reverse_form_for_a_sender_behind_nat(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(DATA[:100_000])
    sender = Sending(path, "photo.jpg", 100_000, "127.0.0.1")
    offer = DccOffer("photo.jpg", "127.0.0.1", 0, 100_000, "42")  # the sender offers port 0 and a token
    connecting: list[asyncio.Task[None]] = []

    async def answer(ours: DccOffer) -> None:
        reply = parse_offer(ours.ctcp())
        assert reply.token == "42" and reply.port != 0
        connecting.append(asyncio.create_task(sender.connect_to(reply)))

    data = await _collect(receive_reverse(offer, answer, "127.0.0.1"))
    await connecting[0]
    assert data == DATA[:100_000]


async def test_a_sender_that_stops_early_or_stalls_fails_the_transfer() -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"x" * 10)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(short, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.raises(NetworkError, match="after 10 of 100 bytes"):
        await _collect(receive(DccOffer("a", "127.0.0.1", port, 100)))
    server.close()

    release = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"x")
        await writer.drain()
        await release.wait()
        writer.close()

    server = await asyncio.start_server(stall, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.raises(NetworkError, match="stalled"):
        async for _ in receive(DccOffer("a", "127.0.0.1", port, 100), stall=0.3):
            pass
    release.set()
    server.close()
