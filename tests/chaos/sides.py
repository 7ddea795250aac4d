"""The two ends of a chaos test, per protocol: alice is the ``aggregator`` under test (a headless
subprocess on her own profile), bob is a bare client of the protocol (slixmpp, a raw IRC socket, nio)
that floods her and reads what she sends.

Each side knows what "the server holds" for its protocol:
- XMPP: every message bob sent and the server acknowledged (a ping round trip after it) is in alice's
  server archive (MAM), so all of them must reach her archive.
- IRC: a channel with history replay (InspIRCd ``chanhistory``, 50 lines): every line bob said (echoed
  to him by the server) is replayed to alice on her next join, as long as the flood stays under 50.
- Matrix: every event bob sent (``/send`` answered with an event id) is in the room for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol
from urllib.parse import quote

import nio

from protocols.irc import events as ev
from tests.cli.conftest import Headless, Message, Profile
from tests.contract.irc_harness import IrcPeer
from tests.contract.xmpp_harness import XmppPeer, login_client, server_round_trip
from tests.servers.certs import TestCerts
from tests.servers.irc import HOST, IrcServer
from tests.servers.irc_fixtures import IrcUserPool
from tests.servers.prosody import ProsodyServer
from tests.servers.synapse import MatrixUser, SynapseServer

CONNECT_TIMEOUT = 30.0  # generous: the machine's 2 cores are shared with other test runs
DELIVERY_TIMEOUT = 30.0
#: A ``--print-messages`` line: ``<time> <account>: stored message <id> <in|out> <conversation>``.
STORED = r": stored message (\d+) "


def state(account_id: str, name: str) -> str:
    return rf"^\S+ {re.escape(account_id)}: {name}\b"


def stored_lines(headless: Headless, start: int = 0) -> list[str]:
    return headless.matching(STORED, start=start)


def bodies_of(messages: list[Message]) -> list[str]:
    return [str(m["body"]) for m in messages]


async def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Polls ``check`` until it holds; fails naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


class Side(Protocol):
    """What a chaos test needs of a protocol (see the module docstring)."""

    name: str
    account_id: str
    #: ``history --with`` this address shows bob's flood.
    conversation: str
    #: ``aggregator send ACCOUNT <peer_address> TEXT`` reaches bob.
    peer_address: str
    #: Bob's flood stays under this many messages for the server to hold all of them.
    max_flood: int

    async def start(self, profile: Profile) -> Headless:
        """``run --headless --print-messages``, returned once alice can receive bob's flood."""
        ...

    async def flood(self, bodies: Sequence[str]) -> None:
        """Bob sends ``bodies`` in order; returns once the server has acknowledged every one."""
        ...

    async def received(self, body: str) -> int:
        """How many copies of ``body`` from alice bob has received so far."""
        ...


async def start_headless(profile: Profile, account_id: str, *, verbose: bool = False) -> Headless:
    saved = profile.global_args
    profile.global_args = ("-v",) if verbose else ()
    try:
        headless = await profile.headless("--print-messages")
    finally:
        profile.global_args = saved
    await headless.wait_line(state(account_id, "connected"), timeout=CONNECT_TIMEOUT)
    return headless


# ------------------------------------------------------------------------------------------ XMPP


class XmppSide:
    name = "xmpp"
    max_flood = 100_000

    def __init__(self, prosody: ProsodyServer, alice: str, alice_password: str, bob: XmppPeer) -> None:
        self.prosody = prosody
        self.alice = alice
        self.alice_password = alice_password
        self.bob = bob
        self.account_id = f"xmpp:{alice}"
        self.conversation = bob.address
        self.peer_address = bob.address

    async def start(self, profile: Profile) -> Headless:
        return await start_headless(profile, self.account_id)

    async def flood(self, bodies: Sequence[str]) -> None:
        for n, body in enumerate(bodies, 1):
            self.bob.client.send_message(mto=self.alice, mbody=body, mtype="chat")
            if n % 100 == 0:
                await server_round_trip(self.bob.client, timeout=60)
        await server_round_trip(self.bob.client, timeout=60)

    async def received(self, body: str) -> int:
        await server_round_trip(self.bob.client, timeout=30)
        return sum(1 for s in self.bob.stanzas if s["body"] == body and s["from"].bare == self.alice)


@contextlib.asynccontextmanager
async def xmpp_side(profile: Profile, prosody: ProsodyServer) -> AsyncIterator[XmppSide]:
    """alice's XMPP account on ``profile`` and bob online as a bare slixmpp client."""
    alice, bob = await prosody.new_user("alice"), await prosody.new_user("bob")
    args = ["account", "add", "xmpp", alice.jid, "--server", prosody.starttls_address]
    args += ["--ca-file", str(prosody.certs.ca_file), "--password-stdin"]
    (await profile.run(*args, stdin=alice.password + "\n")).ok()
    peer = XmppPeer(bob.jid, await login_client(prosody, bob.jid, bob.password, resource="flood"))
    try:
        yield XmppSide(prosody, alice.jid, alice.password, peer)
    finally:
        await peer.close()


# ------------------------------------------------------------------------------------------- IRC


class IrcSide:
    name = "irc"
    max_flood = 45  # InspIRCd replays the last 50 lines of the channel on join

    def __init__(self, nick: str, channel: str, bob: IrcPeer) -> None:
        self.nick = nick
        self.channel = channel
        self.bob = bob
        self.account_id = f"irc:{nick}"
        self.conversation = channel
        self.peer_address = bob.address

    async def start(self, profile: Profile) -> Headless:
        mark = len(self.bob.events)
        headless = await start_headless(profile, self.account_id)
        folded, who = self.bob.client.casefold(self.channel), self.bob.client.casefold(self.nick)

        def alice_joined() -> bool:
            return any(
                isinstance(e, ev.Joined)
                and self.bob.client.casefold(e.channel) == folded
                and self.bob.client.casefold(e.nick) == who
                for e in self.bob.events[mark:]
            )

        await wait_for(alice_joined, f"{self.nick} to join {self.channel}", CONNECT_TIMEOUT)
        return headless

    async def flood(self, bodies: Sequence[str]) -> None:
        for body in bodies:
            await self.bob.send_message(self.channel, body)  # returns on the server's echo

    async def received(self, body: str) -> int:
        await self.bob.sync()
        me = self.bob.client.casefold(self.nick)
        return sum(
            1
            for e in self.bob.events
            if isinstance(e, ev.Message)
            and not e.is_echo
            and self.bob.client.casefold(e.source) == me
            and e.text == body
        )

    def from_alice(self) -> list[str]:
        """Every text bob has received from alice, in order."""
        me = self.bob.client.casefold(self.nick)
        return [
            e.text
            for e in self.bob.events
            if isinstance(e, ev.Message) and not e.is_echo and self.bob.client.casefold(e.source) == me
        ]


def new_channel() -> str:
    return f"#chaos-{secrets.token_hex(3)}"


@contextlib.asynccontextmanager
async def irc_side(profile: Profile, server: IrcServer, pool: IrcUserPool, certs: TestCerts) -> AsyncIterator[IrcSide]:
    """alice's IRC account (SASL on TLS, autojoin of a fresh channel) and bob in that channel."""
    alice, bob = await pool.take(), await pool.take()
    channel = new_channel()
    bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
    args = ["account", "add", "irc", alice.nick, "--server", f"{HOST}:{server.tls_port}"]
    args += ["--ca-file", str(certs.ca_file), "--option", f"autojoin={channel}", "--password-stdin"]
    (await profile.run(*args, stdin=alice.password + "\n")).ok()
    peer = await bob_online
    try:
        await peer.join(channel)
        yield IrcSide(alice.nick, channel, peer)
    finally:
        await peer.close()


# ---------------------------------------------------------------------------------------- Matrix


class MatrixSide:
    name = "matrix"
    max_flood = 100_000

    def __init__(self, synapse: SynapseServer, alice: MatrixUser, bob: MatrixUser, client: Any) -> None:
        self.synapse = synapse
        self.alice = alice
        self.bob = bob
        self.client = client
        self.account_id = f"matrix:{alice.user_id}"
        self.conversation = bob.user_id
        self.peer_address = bob.user_id
        self.room_id = ""

    async def start(self, profile: Profile) -> Headless:
        headless = await start_headless(profile, self.account_id, verbose=True)
        if not self.room_id:  # the first start: bob opens a direct chat, alice accepts it by writing
            created = await self.client.room_create(
                is_direct=True, invite=[self.alice.user_id], preset=nio.RoomPreset.trusted_private_chat
            )
            assert isinstance(created, nio.RoomCreateResponse), created
            self.room_id = str(created.room_id)
            invited = rf"{re.escape(self.bob.user_id)} invited you to the direct chat {re.escape(self.room_id)}"
            await wait_for(
                lambda: any(re.search(invited, line) for line in headless.errors), "the invitation", DELIVERY_TIMEOUT
            )
            (await profile.run("send", self.account_id, self.bob.user_id, "hello bob")).ok()
            await profile.wait_history(
                self.bob.user_id, lambda ms: "hello bob" in bodies_of(ms), timeout=DELIVERY_TIMEOUT
            )
        return headless

    async def send(self, body: str) -> str:
        reply = await self.client.room_send(self.room_id, "m.room.message", {"msgtype": "m.text", "body": body})
        assert isinstance(reply, nio.RoomSendResponse), reply
        return str(reply.event_id)

    async def send_raw(self, content: dict[str, Any], event_type: str = "m.room.message") -> str:
        """Any content bob's client can put in an event, past nio's checks (the server's answer is the id)."""
        path = f"/_matrix/client/v3/rooms/{quote(self.room_id)}/send/{event_type}/{secrets.token_hex(8)}"
        reply = await self.synapse.request("PUT", path, content, self.bob.access_token)
        return str(reply["event_id"])

    async def flood(self, bodies: Sequence[str]) -> None:
        for body in bodies:
            await self.send(body)

    async def received(self, body: str) -> int:
        path = f"/_matrix/client/v3/rooms/{quote(self.room_id)}/messages?dir=b&limit=500"
        reply = await self.synapse.request("GET", path, None, self.bob.access_token)
        return sum(
            1
            for e in reply["chunk"]
            if e.get("sender") == self.alice.user_id and e.get("content", {}).get("body") == body
        )


@contextlib.asynccontextmanager
async def matrix_side(profile: Profile, synapse: SynapseServer) -> AsyncIterator[MatrixSide]:
    """alice's Matrix account on ``profile`` and bob as a plain nio client (no encryption)."""
    alice, bob = await synapse.new_user("alice"), await synapse.new_user("bob")
    args = ["account", "add", "matrix", alice.user_id, "--server", synapse.url, "--allow-plaintext"]
    (await profile.run(*args, "--password-stdin", stdin=alice.password + "\n")).ok()
    client = nio.AsyncClient(synapse.url, bob.user_id, config=nio.AsyncClientConfig(encryption_enabled=False))
    client.restore_login(bob.user_id, bob.device_id, bob.access_token)
    try:
        yield MatrixSide(synapse, alice, bob, client)
    finally:
        await client.close()


# --------------------------------------------------------------------------- after the recovery


async def assert_keeps_working(profile: Profile, side: Side, tag: str) -> None:
    """A new message from bob is stored, and alice's ``send`` reaches bob exactly once."""
    fresh = f"after the recovery {tag}"
    await side.flood([fresh])
    await profile.wait_history(side.conversation, lambda ms: fresh in bodies_of(ms), timeout=DELIVERY_TIMEOUT)
    reply, closing = f"alice answers {tag}", f"alice closes {tag}"
    for text in (reply, closing):
        sent = await profile.run("send", side.account_id, side.peer_address, text)
        assert sent.rc == 0 and sent.stdout.startswith("Sent message "), str(sent)
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while await side.received(closing) < 1:  # the closing line follows the reply on the same connection
        assert time.monotonic() < deadline, f"bob never received {closing!r}"
        await asyncio.sleep(0.2)
    assert await side.received(reply) == 1, f"bob received {reply!r} {await side.received(reply)} times"
    assert await side.received(closing) == 1


async def search(profile: Profile, *query: str, limit: int = 50) -> list[Message]:
    """``aggregator search QUERY --json``: the matches, newest first."""
    import json

    result = (await profile.run("search", *query, "--limit", str(limit), "--json")).ok()
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


async def live_xmpp_message(profile: Profile, prosody: ProsodyServer, body: str) -> None:
    """A live message from bob to a new XMPP account of ``profile``, stored by a headless run (then stopped)."""
    async with xmpp_side(profile, prosody) as side:
        headless = await side.start(profile)
        await side.flood([body])
        await profile.wait_history(side.conversation, lambda ms: body in bodies_of(ms), timeout=DELIVERY_TIMEOUT)
        assert await headless.stop() == 0
