"""What a user does with an IRC account, end to end: the real ``aggregator`` console script in
subprocesses (keyring session), the session's InspIRCd + Atheme, and bob as a bare IRC client in the
test (``IrcPeer``: our sans-I/O client on a plain socket, no adapter, no core).

Channels get a random name per test (the server is shared by the session and keeps 50 lines of each
channel for the replay on join).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from protocols.irc import events as ev
from protocols.irc.message import IrcMessage
from tests.cli.conftest import FAST_RECONNECT, Headless, Message, Profile
from tests.contract.irc_harness import IrcPeer
from tests.servers.certs import TestCerts
from tests.servers.irc import HOST, IrcServer, free_port
from tests.servers.irc_fixtures import IrcUserPool

CONNECT_TIMEOUT = 30.0  # generous: the machine's cores are shared with other test runs


@dataclass(frozen=True, slots=True)
class Account:
    nick: str
    password: str

    @property
    def account_id(self) -> str:
        return f"irc:{self.nick}"


def state(account: Account, name: str) -> str:
    return rf"^\S+ {re.escape(account.account_id)}: {name}\b"


def new_channel() -> str:
    return f"#team-{secrets.token_hex(3)}"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def with_bodies(*texts: str) -> Callable[[list[Message]], bool]:
    return lambda messages: all(any(m["body"] == text for m in messages) for text in texts)


def count(messages: list[Message], body: str) -> int:
    return sum(1 for m in messages if m["body"] == body)


async def add_account(profile: Profile, account: Account, server: str, certs: TestCerts, *extra: str) -> None:
    args = ["account", "add", "irc", account.nick, "--server", server, "--ca-file", str(certs.ca_file)]
    (await profile.run(*args, "--password-stdin", *extra, stdin=account.password + "\n")).ok()


async def start_headless(profile: Profile, account: Account) -> Headless:
    headless = await profile.headless()
    await headless.wait_line(state(account, "connected"), timeout=CONNECT_TIMEOUT)
    return headless


async def take_accounts(pool: IrcUserPool, n: int) -> list[Account]:
    return [Account(user.nick, user.password) for user in [await pool.take() for _ in range(n)]]


@contextlib.asynccontextmanager
async def online(server: IrcServer, nick: str) -> AsyncIterator[IrcPeer]:
    peer = await IrcPeer.connect(server, nick, timeout=CONNECT_TIMEOUT)
    try:
        yield peer
    finally:
        await peer.close()


async def joined(peer: IrcPeer, channel: str, nick: str, timeout: float = 15.0) -> None:
    """Waits until ``peer`` sees ``nick`` join ``channel`` (counting from now)."""
    mark = len(peer.events)
    folded, who = peer.client.casefold(channel), peer.client.casefold(nick)

    def seen() -> bool:
        return any(
            isinstance(e, ev.Joined)
            and peer.client.casefold(e.channel) == folded
            and peer.client.casefold(e.nick) == who
            for e in peer.events[mark:]
        )

    async with asyncio.timeout(timeout):
        while not seen():
            await asyncio.sleep(0.05)


async def members(peer: IrcPeer, channel: str, timeout: float = 10.0) -> set[str]:
    """The channel's members as NAMES tells them now."""
    mark = len(peer.events)
    folded = peer.client.casefold(channel)

    def names() -> list[ev.Names]:
        return [
            e for e in peer.events[mark:] if isinstance(e, ev.Names) and peer.client.casefold(e.channel) == folded
        ]  # fmt: skip

    peer.write([IrcMessage("NAMES", (channel,))])
    async with asyncio.timeout(timeout):
        while not names():
            await peer.sync()
    return {peer.client.casefold(n) for n in names()[-1].members}


class GatedRelay:
    """A TCP relay in front of InspIRCd's TLS port (TLS passes through untouched; the certificate is
    valid for 127.0.0.1). While the gate is shut nothing listens, so connecting is refused: the test
    decides when alice may reconnect (after bob is back on the restarted server)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.accepted = 0

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    async def open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._relay, HOST, self.port)

    def shut(self) -> None:
        """No new connections (the established ones stay)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()

    async def close(self) -> None:
        self.shut()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        except OSError:
            writer.close()
            self._pipes.discard(task)
            return
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                w.close()
            self._pipes.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()


# --------------------------------------------------------------------- (a) channel and private lines


async def test_channel_and_private_lines_are_in_history_with_the_servers_timestamps(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    server = running_irc_server
    alice, bob = await take_accounts(irc_user_pool, 2)
    channel = new_channel()
    bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
    await add_account(profile, alice, f"{HOST}:{server.tls_port}", test_certs, "--option", f"autojoin={channel}")
    headless = await start_headless(profile, alice)  # SASL on TLS, verified with the test CA
    peer = await bob_online
    try:
        await peer.join(channel)
        async with asyncio.timeout(20):  # the room service joins the autojoin channel once alice is connected
            while alice.nick not in await members(peer, channel):
                await asyncio.sleep(0.1)
        said = await peer.send_message(channel, "hello team")
        private = await peer.send_message(alice.nick, "hello alice, just you")
        action = await peer.send_message(channel, "waves", action=True)
    finally:
        await peer.close()

    in_channel = await profile.wait_history(channel, with_bodies("hello team", "waves"), timeout=20)
    in_query = await profile.wait_history(bob.nick, with_bodies("hello alice, just you"), timeout=20)
    assert [m["body"] for m in in_channel] == ["hello team", "waves"]
    assert [m["body"] for m in in_query] == ["hello alice, just you"]
    for message, echo in ((in_channel[0], said), (in_channel[1], action), (in_query[0], private)):
        assert (message["direction"], message["sender"], message["state"]) == ("in", bob.nick, "received")
        assert message["server_id"] == echo.msgid  # the dedupe key is the server's msgid
        assert echo.time is not None and parse_time(message["sent_at"]) == echo.time  # server-time, to the ms
        assert not message["backfill"]
    assert in_channel[0]["conversation_kind"] == "room" and in_channel[0]["conversation"] == channel
    assert in_channel[1]["kind"] == "action"
    assert in_query[0]["conversation_kind"] == "direct" and in_query[0]["conversation"] == bob.nick
    assert await headless.stop() == 0


# ------------------------------------------------------------------------- (b) restarts and replays


async def test_server_restart_rejoins_and_delivers_the_queued_message_once(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    server = running_irc_server
    alice, bob = await take_accounts(irc_user_pool, 2)
    channel = new_channel()
    relay = GatedRelay(server.tls_port)
    await relay.open()
    try:
        bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
        await add_account(profile, alice, relay.address, test_certs, "--option", f"autojoin={channel}")
        headless = await start_headless(profile, alice)
        peer = await bob_online
        await peer.join(channel)
        await peer.send_message(channel, "before the restart")
        before = await profile.wait_history(channel, with_bodies("before the restart"), timeout=20)
        await peer.close()

        relay.shut()  # alice may reconnect only once bob is back
        mark = len(headless.lines)
        await asyncio.to_thread(server.stop)  # SIGKILL: InspIRCd forgets its channels and their history
        await headless.wait_line(state(alice, "waiting"), start=mark, timeout=15)
        queued = (await profile.run("send", alice.account_id, bob.nick, "sent while the server was down")).ok()
        assert queued.stdout.startswith("Queued message "), str(queued)

        await asyncio.to_thread(server.start)  # the same ports; Atheme kept the accounts
        async with online(server, bob.nick) as peer:
            await peer.join(channel)
            mark = len(headless.lines)
            alice_back = asyncio.ensure_future(joined(peer, channel, alice.nick, timeout=CONNECT_TIMEOUT))
            await relay.open()
            restarted = time.monotonic()
            await headless.wait_line(state(alice, "connected"), start=mark, timeout=CONNECT_TIMEOUT)
            assert time.monotonic() - restarted < FAST_RECONNECT["reconnect_max_delay"] + CONNECT_TIMEOUT
            await alice_back  # rejoined the autojoin channel
            assert await peer.next_message(timeout=20) == (alice.nick, "sent while the server was down")
            # Alice sends a marker after it: messages go out in order, so a second copy would have come first.
            (await profile.run("send", alice.account_id, bob.nick, "marker after the restart")).ok()
            assert await peer.next_message(timeout=20) == (alice.nick, "marker after the restart")
            copies = [
                e for e in peer.events
                if isinstance(e, ev.Message) and not e.is_echo and e.text == "sent while the server was down"
            ]  # fmt: skip
            assert len(copies) == 1, copies
            await peer.send_message(channel, "after the restart")
            await profile.wait_history(channel, with_bodies("after the restart"), timeout=20)

        (sent, marker) = await profile.wait_history(
            bob.nick, lambda ms: [m["state"] for m in ms] == ["sent", "sent"], "--account", alice.account_id, timeout=20
        )
        assert marker["body"] == "marker after the restart"
        assert sent["body"] == "sent while the server was down" and sent["direction"] == "out"
        assert sent["server_id"] == copies[0].msgid  # the echo confirmed the pending row: one row
        after = await profile.history(channel)
        assert [m["body"] for m in after] == ["before the restart", "after the restart"]
        assert after[0] == before[0]
        assert await headless.stop() == 0
    finally:
        await relay.close()


async def test_the_channel_replay_on_rejoin_adds_only_what_was_missed(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    """InspIRCd replays the channel's last lines on every join (chanhistory): stored lines are not stored
    again (same msgid), a line said while alice was away is stored once, from the replay."""
    server = running_irc_server
    alice, bob = await take_accounts(irc_user_pool, 2)
    channel = new_channel()
    bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
    await add_account(profile, alice, f"{HOST}:{server.tls_port}", test_certs, "--option", f"autojoin={channel}")
    headless = await start_headless(profile, alice)
    peer = await bob_online
    try:
        await peer.join(channel)
        live = [await peer.send_message(channel, f"live line {n}") for n in range(1, 4)]
        first = await profile.wait_history(channel, with_bodies(*(e.text for e in live)), timeout=20)
        assert await headless.stop() == 0
        missed = await peer.send_message(channel, "said while alice was away")

        # What the replay carries, seen by a bare client: the live msgids, the time cut to seconds.
        async with online(server, f"r{secrets.token_hex(4)}") as reader:
            await reader.join(channel)
            replayed = {e.text: e for e in reader.events if isinstance(e, ev.Message) and e.batch_type}
        for line in [*live, missed]:
            assert replayed[line.text].msgid == line.msgid
            stamp, original = replayed[line.text].time, line.time
            assert stamp is not None and original is not None
            assert stamp == original.replace(microsecond=0)  # InspIRCd keeps whole seconds

        headless = await start_headless(profile, alice)
        await profile.wait_history(channel, with_bodies("said while alice was away"), timeout=20)
        # A live line after the replay (which comes on joining, before it): once it is logged, the rest of
        # the replay would be too, if it were stored twice.
        await peer.send_message(channel, "after the replay")
        after = await profile.wait_history(channel, with_bodies("after the replay"), timeout=20)
        assert after[: len(first)] == first  # unchanged: same rows, same (precise) timestamps
        assert [m["body"] for m in after] == [*(e.text for e in live), "said while alice was away", "after the replay"]
        (away, _) = after[len(first) :]
        assert away["server_id"] == missed.msgid and away["backfill"]
        assert missed.time is not None and parse_time(away["sent_at"]) == missed.time.replace(microsecond=0)
        assert await headless.stop() == 0
    finally:
        await peer.close()


# ----------------------------------------------------------------------- (2) a message split in lines


async def test_a_long_message_goes_out_in_lines_and_is_stored_once_in_full(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    server = running_irc_server
    alice, bob = await take_accounts(irc_user_pool, 2)
    bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
    await add_account(profile, alice, f"{HOST}:{server.tls_port}", test_certs)
    headless = await start_headless(profile, alice)
    text = " ".join(f"wörd{n}" if n % 7 else f"ünïcödé-{n}-€" for n in range(300))
    assert len(text) >= 2000
    peer = await bob_online
    try:
        sent = (await profile.run("send", alice.account_id, bob.nick, text)).ok()
        assert sent.stdout.startswith("Sent message "), str(sent)
        pieces: list[str] = []
        async with asyncio.timeout(20):
            while "".join(pieces) != text:
                source, piece = await peer.next_message()
                assert source == alice.nick
                pieces.append(piece)
        assert len(pieces) >= 4  # 2 kB in lines of at most 512 bytes
        assert all(len(f":{alice.nick}!x@y PRIVMSG {bob.nick} :{p}\r\n".encode()) <= 512 for p in pieces)
        lines = [e for e in peer.events if isinstance(e, ev.Message) and not e.is_echo and e.source == alice.nick]
        assert len({e.msgid for e in lines}) == len(pieces)  # each line has its own msgid
        # A marker after it: its echo comes after every echo of the long message, so once the marker's row
        # is confirmed, every earlier echo has been handled.
        (await profile.run("send", alice.account_id, bob.nick, "marker")).ok()
        (row, _) = await profile.wait_history(
            bob.nick, lambda ms: [(m["body"], m["state"]) for m in ms][1:] == [("marker", "sent")], timeout=20
        )
        assert row["body"] == text and (row["direction"], row["state"]) == ("out", "sent")
        assert row["server_id"] == lines[0].msgid  # the first line's echo confirmed the pending row
    finally:
        await peer.close()
    assert await headless.stop() == 0


# ----------------------------------------------------------------------------------- (c) hostile input


async def test_hostile_lines_from_bob_leave_the_headless_client_connected(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    server = running_irc_server
    alice, bob = await take_accounts(irc_user_pool, 2)
    channel = new_channel()
    bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
    await add_account(profile, alice, f"{HOST}:{server.tls_port}", test_certs, "--option", f"autojoin={channel}")
    headless = await start_headless(profile, alice)
    mark = len(headless.lines)
    peer = await bob_online
    try:
        await peer.join(channel)
        for target in (alice.nick.encode(), channel.encode()):
            privmsg = b"PRIVMSG " + target + b" :"
            peer.write_raw(privmsg + b"y" * 2000 + b"\r\n")  # InspIRCd cuts it to 512 bytes
            peer.write_raw(privmsg + b"caf\xe9 and \xff\xfe\xc3 broken bytes\r\n")  # not UTF-8: latin-1
            peer.write_raw(privmsg + b"nul\x00 inside\r\n")
            peer.write_raw(privmsg + b"\x01\x01\x01ACTION\r\n")
            peer.write_raw(b"@+evil=a\\sb\\;c\\ " + privmsg + b"odd tag escapes\r\n")
            flood = b"".join(
                privmsg + ctcp
                for _ in range(100)
                for ctcp in (b"\x01VERSION\x01\r\n", b"\x01PING 1234\x01\r\n", b"\x01DCC SEND x 1 2 3\x01\r\n")
            )
            peer.write_raw(flood)
            peer.write_raw(privmsg + b"\x01ACTION survived the flood\x01\r\n")
        await peer.sync()
        await peer.send_message(alice.nick, "still alive")
        await peer.send_message(channel, "still alive in the channel")
        query = await profile.wait_history(bob.nick, with_bodies("still alive"), timeout=30)
        room = await profile.wait_history(channel, with_bodies("still alive in the channel"), timeout=30)
        # No CTCP replies went out: alice sends a marker after handling the flood, and it is the first (and
        # only) thing bob has received from alice.
        (await profile.run("send", alice.account_id, bob.nick, "marker after the flood")).ok()
        assert await peer.next_message(timeout=20) == (alice.nick, "marker after the flood")
        assert [e.text for e in peer.events if isinstance(e, ev.Message) and e.source == alice.nick] == [
            "marker after the flood"
        ]
    finally:
        await peer.close()
    for messages, last in ((query, "still alive"), (room, "still alive in the channel")):
        bodies = [m["body"] for m in messages]
        assert bodies[-1] == last, bodies
        assert "café and ÿþÃ broken bytes" in bodies
        assert "odd tag escapes" in bodies
        long_line = next(b for b in bodies if b.startswith("yyy"))
        assert 400 < len(long_line.encode()) < 512 and set(long_line) == {"y"}
        assert not any("\x00" in b or "\x01" in b for b in bodies)
        assert not any("VERSION" in b or "DCC" in b or "PING" in b for b in bodies)  # CTCP is not logged
        assert any(m["kind"] == "action" and m["body"] == "survived the flood" for m in messages)
        assert len(bodies) <= 8, bodies
    assert headless.running
    assert not headless.matching(r": (waiting|connecting|failed)\b", start=mark), headless.output()
    assert await headless.stop() == 0


class GarbageServer:
    """A TCP server that answers whatever comes with ``script`` (a list of byte strings)."""

    def __init__(self, script: Callable[[str], list[bytes]]) -> None:
        self.script = script
        self.connections = 0
        self.received = bytearray()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> GarbageServer:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"{HOST}:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(Exception):
            first = await asyncio.wait_for(reader.read(4096), 10)
            self.received += first
            nick = next(
                (w.split()[1] for w in first.decode(errors="replace").split("\n") if w.startswith("NICK ")), "x"
            )
            for chunk in self.script(nick):
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(0.01)
            while data := await reader.read(4096):
                self.received += data
        writer.close()


def junk(nick: str) -> list[bytes]:
    return [b"\x16\x03\x01\x00\xff\xfe junk \x00\x01\x02\r\n", bytes(range(256)) * 40, b"\r\n", b"!!! %%% ???\r\n"]


def junk_after_welcome(nick: str) -> list[bytes]:
    n = nick.encode()
    welcome = [b":srv 001 " + n + b" :Welcome\r\n", b":srv 376 " + n + b" :End of MOTD\r\n"]
    after = b":bob!b@host PRIVMSG " + n + b" :after the junk\r\n"
    return [*welcome, *junk(nick), b":\r\n@a=b\r\n" + b"\xff" * 20000 + b"\r\n", after]


def only_junk_after_welcome(nick: str) -> list[bytes]:
    return [*junk_after_welcome(nick)[:2], b"".join(b"%d \x02\x03 junk\r\n" % n for n in range(300))]


async def test_a_server_that_sends_garbage_is_dropped_with_a_clear_reason(profile: Profile) -> None:
    plain, tls, later = Account("plainjunk", ""), Account("tlsjunk", ""), Account("laterjunk", "")
    flood = Account("floodjunk", "")
    async with (
        GarbageServer(junk) as garbage,
        GarbageServer(junk_after_welcome) as half,
        GarbageServer(only_junk_after_welcome) as flooding,
    ):
        for account, where, extra in ((plain, garbage, ("--allow-plaintext",)), (tls, garbage, ()),
                                      (later, half, ("--allow-plaintext",)),
                                      (flood, flooding, ("--allow-plaintext",))):  # fmt: skip
            args = ["account", "add", "irc", account.nick, "--server", where.address, *extra]
            (await profile.run(*args, "--password-stdin", stdin="\n")).ok()
        headless = await profile.headless()
        line = headless.lines[await headless.wait_line(state(plain, "(waiting|failed)"), timeout=CONNECT_TIMEOUT)]
        assert "does not speak IRC" in line and "not an IRC command" in line, line
        line = headless.lines[await headless.wait_line(state(tls, "(waiting|failed)"), timeout=CONNECT_TIMEOUT)]
        assert "TLS" in line, line  # the TLS handshake got junk: refused, naming TLS
        start = await headless.wait_line(state(flood, "connected"), timeout=CONNECT_TIMEOUT)
        line = headless.lines[await headless.wait_line(state(flood, "waiting"), start=start, timeout=CONNECT_TIMEOUT)]
        assert "sent 100 lines in a row that are not IRC" in line, line
        await headless.wait_line(state(later, "connected"), timeout=CONNECT_TIMEOUT)
        (message,) = await profile.wait_history("bob", with_bodies("after the junk"), timeout=20)
        assert message["sender"] == "bob"
        assert headless.running
        assert not headless.matching(state(later, "(waiting|failed)")), headless.output()
        assert "Traceback" not in "\n".join(headless.errors), headless.output()
        assert await headless.stop() == 0
