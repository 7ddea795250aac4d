"""What goes on the wire when the IRC adapter sends (issue 13, defects 4-5), against the scripted server
(``tests/servers/scripted_irc.py``: no echo-message, faults on demand) and the sans-I/O client.

The end-to-end versions (``aggregator send``, InspIRCd, a second client) are in ``tests/cli/test_irc_delivery.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from aggregator.api import (
    AccountSettings,
    ConfigurationError,
    ConversationKey,
    Credentials,
    NetworkError,
    OutgoingMessage,
    ProtocolError,
)
from protocols.irc import PROTOCOL
from protocols.irc.adapter import IrcAdapter
from protocols.irc.client import IrcClient
from protocols.irc.params import InvalidTarget, check_target
from tests.contract.sink import EventCollector
from tests.servers.scripted_irc import ScriptedIrcServer

BAD_TARGETS = ["bob,carol", "bob\r\nQUIT :x", "bob\nJOIN #x", "bob carol", ":bob", "bob\0", "", "bob\x07"]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_target_no_line_can_carry_is_refused_by_the_client(target: str) -> None:
    client = IrcClient("alice")
    with pytest.raises(InvalidTarget):
        client.privmsg(target, "hello")
    builds: list[Callable[[], object]] = [
        lambda: client.join(target),
        lambda: client.part(target),
        lambda: client.set_topic(target, "t"),
    ]
    for build in builds:
        with pytest.raises(InvalidTarget):
            build()
    with pytest.raises(ConfigurationError):  # refused before the core stores anything
        PROTOCOL.normalize_handle(target)


@pytest.mark.parametrize("target", ["bob", "#team", "&local", "@#team", "nick[away]", "bob!u@host", "#ünï"])
def test_ordinary_targets_pass(target: str) -> None:
    assert check_target(target) == target
    assert IrcClient("alice").privmsg(target, "hi")[0].params == (target, "hi")


def test_free_text_and_bodies_never_put_a_line_break_on_the_wire() -> None:
    client = IrcClient("alice", realname="Alice\r\nQUIT")
    lines = [
        *client.start(),
        *client.part("#team", "bye\r\nQUIT :now"),
        *client.set_topic("#team", "a\nPRIVMSG #x :b"),
        *client.away("out\rJOIN #x"),
        *client.quit("gone\n\0QUIT"),
        *client.privmsg("bob", "one\r\ntwo\n\nthree\x00\r\x01VERSION\x01"),
    ]
    wire = b"".join(line.to_bytes() for line in lines)
    assert wire.count(b"\r\n") == len(lines) and b"\n" not in wire.replace(b"\r\n", b"") and b"\0" not in wire
    assert [line.params[1] for line in lines if line.command == "PRIVMSG"] == ["one", "two", "three", "VERSION"]


async def _adapter(server: ScriptedIrcServer) -> tuple[IrcAdapter, EventCollector]:
    sink = EventCollector()
    adapter = IrcAdapter(AccountSettings("irc:alice", "alice", server=server.address, allow_plaintext=True), sink)
    await adapter.connect(Credentials(None))
    return adapter, sink


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedIrcServer]:
    async with ScriptedIrcServer() as server:
        yield server


def message(body: str, key: str) -> OutgoingMessage:
    return OutgoingMessage(body=body, idempotency_key=key)


async def test_a_stored_bad_target_fails_at_once_and_the_next_message_goes_out(scripted: ScriptedIrcServer) -> None:
    adapter, _ = await _adapter(scripted)
    try:
        started = time.monotonic()
        for target in ("bob\r\nQUIT :injected", "bob,carol"):
            with pytest.raises(ProtocolError):  # permanent: the core marks it failed, never retries it
                await adapter.send_message(ConversationKey.direct("irc:alice", target), message("hi", "k1"))
        assert time.monotonic() - started < 1.0
        await adapter.send_message(ConversationKey.direct("irc:alice", "bob"), message("next", "k2"))
        assert scripted.texts() == ["next"]  # returned: the server had it
        assert [t for _, t in scripted.lines if t.startswith(("QUIT", "PRIVMSG carol"))] == []
    finally:
        await adapter.disconnect()


async def test_send_returns_only_once_the_server_proved_it_had_the_message(scripted: ScriptedIrcServer) -> None:
    """No echo-message: the PONG after the message is the proof. The server processes the message but
    holds its PONGs: the send is not over; once the PONG comes, it is."""
    adapter, _ = await _adapter(scripted)
    try:
        scripted.hold_pongs = True
        sending = asyncio.ensure_future(
            adapter.send_message(ConversationKey.direct("irc:alice", "bob"), message("unproved", "k1"))
        )
        await scripted.wait_for(lambda: scripted.texts() == ["unproved"], "the message")
        await scripted.wait_for(lambda: any(t.startswith("PING") for _, t in scripted.lines[-1:]), "the PING")
        assert not sending.done()  # the server had it, but has not proved it yet
        scripted.release_pongs()
        receipt = await asyncio.wait_for(sending, 10)
        assert receipt.remote_id is None and scripted.texts() == ["unproved"]
    finally:
        scripted.release_pongs()
        await adapter.disconnect()


async def test_a_connection_lost_before_the_proof_leaves_the_message_pending(scripted: ScriptedIrcServer) -> None:
    adapter, _ = await _adapter(scripted)
    try:
        scripted.freeze()
        sending = asyncio.ensure_future(
            adapter.send_message(ConversationKey.direct("irc:alice", "bob"), message("lost", "k1"))
        )
        await scripted.wait_for(lambda: bool(scripted.connections), "a connection")
        scripted.crash()
        scripted.thaw()
        with pytest.raises(NetworkError):  # not sent, not failed: the core keeps it pending and resends it
            await asyncio.wait_for(sending, 10)
        assert scripted.texts() == []
    finally:
        scripted.thaw()
        await adapter.disconnect()


async def test_an_error_about_the_target_before_the_proof_fails_the_message() -> None:
    """Without echo-message a "no such nick" (401) that comes before our PONG is the answer to the message."""
    async with ScriptedIrcServer() as server:
        original = server._handle

        def handle(c, m):  # type: ignore[no-untyped-def]
            if m.command == "PRIVMSG" and m.param(0) == "nobody":
                c.send(f":scripted.test 401 {c.nick} nobody :No such nick/channel")
                return True
            return original(c, m)

        server._handle = handle  # type: ignore[method-assign]
        adapter, _ = await _adapter(server)
        try:
            with pytest.raises(ProtocolError, match="No such nick"):
                await adapter.send_message(ConversationKey.direct("irc:alice", "nobody"), message("hi", "k1"))
        finally:
            await adapter.disconnect()
