"""Files on IRC against the real InspIRCd (issue 16, item 3): DCC SEND from another client to us and from
us to it, both the direct and the reverse (passive) form, over the server's CTCP; a link to a file is a
file fetched only on request; a channel cannot be offered a file."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from aggregator.api import (
    ConversationKey,
    Credentials,
    MessageReceived,
    OutgoingFile,
    OutgoingMessage,
    UnsupportedError,
)
from protocols.irc import dcc
from protocols.irc import events as ev
from protocols.irc.adapter import IrcAdapter
from tests.contract.irc_harness import IrcHarness, IrcPeer
from tests.contract.sink import EventCollector

DATA = os.urandom(2 * 1024 * 1024 + 5)


@pytest.fixture
async def adapter(irc_harness: IrcHarness, tmp_path: Path) -> AsyncIterator[tuple[IrcAdapter, EventCollector]]:
    nick, password = await irc_harness.new_user()
    settings = replace(irc_harness.settings(f"irc:{nick}", nick), data_dir=tmp_path / nick)
    sink = EventCollector()
    made = IrcAdapter(settings, sink)
    await made.connect(Credentials(password))
    yield made, sink
    await made.disconnect()


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


async def test_a_dcc_offer_from_another_client_is_a_file_we_fetch_intact(
    adapter: tuple[IrcAdapter, EventCollector], irc_harness: IrcHarness, tmp_path: Path
) -> None:
    ours, sink = adapter
    peer = await irc_harness.new_peer()
    path = tmp_path / "report.pdf"
    path.write_bytes(DATA)
    announced: asyncio.Queue[dcc.DccOffer] = asyncio.Queue()

    async def announce(offer: dcc.DccOffer) -> None:  # the other client's side: the CTCP through the server
        peer.write(peer.client.ctcp(ours._nick, offer.ctcp()))
        await announced.put(offer)

    sending = asyncio.create_task(dcc.Sending(path, "report.pdf", len(DATA), "127.0.0.1").run(announce))
    received = await sink.wait_for(MessageReceived, lambda e: e.body == "report.pdf")
    assert received.conversation == ConversationKey.direct(ours._account_id, peer.handle)
    (offer,) = received.files
    assert offer.fetch_on_request and offer.size == len(DATA) and offer.url.startswith("dcc://127.0.0.1:")
    data = await _collect(ours.download(offer))
    await sending
    assert hashlib.sha256(data).digest() == hashlib.sha256(DATA).digest()


async def test_our_file_reaches_the_other_client_directly_and_in_reverse(
    adapter: tuple[IrcAdapter, EventCollector], irc_harness: IrcHarness, tmp_path: Path
) -> None:
    ours, _sink = adapter
    peer = await irc_harness.new_peer()
    path = tmp_path / "photo 1.jpg"
    path.write_bytes(DATA)
    file = OutgoingFile(path=path, name="photo 1.jpg", mime_type="image/jpeg", size=len(DATA))
    conversation = ConversationKey.direct(ours._account_id, peer.handle)
    await ours.send_message(conversation, OutgoingMessage("", "dcc-1", file=file))
    request = await peer.wait_event(lambda e: isinstance(e, ev.DccRequest))
    assert isinstance(request, ev.DccRequest)
    offer = dcc.parse_offer(request.text)
    assert offer.name == "photo 1.jpg" and offer.size == len(DATA) and not offer.reverse
    assert await _collect(dcc.receive(offer)) == DATA

    ours._dcc_passive = True  # behind NAT: the other client listens, we connect
    await ours.send_message(conversation, OutgoingMessage("", "dcc-2", file=file))
    second = await peer.wait_event(lambda e: isinstance(e, ev.DccRequest) and e is not request)
    assert isinstance(second, ev.DccRequest)
    reverse = dcc.parse_offer(second.text)
    assert reverse.reverse and reverse.token

    async def answer(mine: dcc.DccOffer) -> None:
        peer.write(peer.client.ctcp(ours._nick, mine.ctcp()))

    assert await _collect(dcc.receive_reverse(reverse, answer, "127.0.0.1")) == DATA


async def test_a_link_to_a_file_is_a_file_and_a_channel_gets_no_offer(
    adapter: tuple[IrcAdapter, EventCollector], irc_harness: IrcHarness, tmp_path: Path
) -> None:
    ours, sink = adapter
    peer: IrcPeer = await irc_harness.new_peer()
    await peer.send(ours._nick, "the slides: https://files.example.org/q3/Slides%20Q3.pdf, and https://example.org/")
    received = await sink.wait_for(MessageReceived, lambda e: "slides" in e.body)
    assert [(f.url, f.name, f.fetch_on_request) for f in received.files] == [
        ("https://files.example.org/q3/Slides%20Q3.pdf", "Slides Q3.pdf", True)
    ]
    path = tmp_path / "x.txt"
    path.write_bytes(b"x")
    file = OutgoingFile(path=path, name="x.txt", mime_type="text/plain", size=1)
    with pytest.raises(UnsupportedError, match="not a channel"):
        await ours.send_message(ConversationKey.room(ours._account_id, "#team"), OutgoingMessage("", "k", file=file))
