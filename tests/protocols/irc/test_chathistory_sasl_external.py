"""IRCv3 CHATHISTORY and the SASL mechanism choice, driven by scripted server lines (no sockets).

There is no live server with CHATHISTORY here: the test server, InspIRCd 3, has none (it replays a
channel's last lines on JOIN instead, tested against the real server in ``test_adapter.py``). So the
CHATHISTORY path is tested sans-I/O: ``IrcClient`` is fed what a server offering ``draft/chathistory``
sends, and the adapter runs over a fake transport that records what it would write.
SASL EXTERNAL is also tested live (``test_adapter.py``, Atheme with a registered certificate fingerprint).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.api import (
    AccountSettings,
    ConversationKey,
    MessageReceived,
    ProtocolError,
    ResumePosition,
    UnsupportedError,
)
from protocols.irc import events as ev
from protocols.irc.adapter import LAST_SEEN_FILE, IrcAdapter
from protocols.irc.client import IrcClient
from protocols.irc.message import IrcMessage
from tests.contract.sink import EventCollector, stored_positions

CAPS = "batch echo-message labeled-response message-tags server-time draft/chathistory"
LS = f":irc.test CAP * LS :{CAPS} sasl=PLAIN,EXTERNAL draft/event-playback\r\n"


def sent(events: list[ev.Event]) -> list[str]:
    return [e.message.to_line() for e in events if isinstance(e, ev.Send)]


def others(events: list[ev.Event]) -> list[ev.Event]:
    return [e for e in events if not isinstance(e, ev.Send)]


def history_client(nick: str = "alice", *, caps: str = CAPS, isupport: str = "CHATHISTORY=50") -> IrcClient:
    client = IrcClient(nick)
    client.start()
    out = client.feed(f":irc.test CAP * LS :{caps}\r\n".encode())
    assert sent(out) == [f"CAP REQ :{' '.join(sorted(caps.split()))}"]
    client.feed(f":irc.test CAP {nick} ACK :{caps}\r\n".encode())
    client.feed(f":irc.test 001 {nick} :hi\r\n:irc.test 005 {nick} CHANTYPES=# {isupport} :ok\r\n".encode())
    client.feed(f":irc.test 376 {nick} :end\r\n".encode())
    assert client.registered
    return client


# ------------------------------------------------------------------------------------------ client


def test_chathistory_is_requested_and_its_batch_reported() -> None:
    client = history_client()
    assert client.supports_chathistory and client.chathistory_limit == 50
    [latest] = client.chathistory_latest("#team", 500, label="h1")  # clamped to the server's 50
    assert latest.to_line() == "@label=h1 CHATHISTORY LATEST #team * 50"
    after = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    [line] = client.chathistory_after("#team", after, 10)
    assert line.to_line() == "CHATHISTORY AFTER #team timestamp=2024-01-02T03:04:05.678Z 10"

    events = others(
        client.feed(
            b"@label=h1 :irc.test BATCH +b1 chathistory #team\r\n"
            b"@batch=b1;time=2024-01-02T03:04:06.000Z;msgid=m1 :bob!b@h PRIVMSG #team :one\r\n"
            b"@batch=b1;time=2024-01-02T03:04:07.000Z;msgid=m2 :alice!a@h PRIVMSG #team :\x01ACTION two\x01\r\n"
            b":irc.test BATCH -b1\r\n"
            b"@time=2024-01-02T03:05:00.000Z;msgid=m3 :bob!b@h PRIVMSG #team :live\r\n"
        )
    )
    one, two, end, live = events
    assert isinstance(one, ev.Message) and isinstance(two, ev.Message) and isinstance(live, ev.Message)
    assert (one.batch_type, one.label, one.msgid, one.text) == ("chathistory", "h1", "m1", "one")
    assert (two.batch_type, two.is_echo, two.action) == ("chathistory", True, True)
    assert end == ev.HistoryEnd("#team", 2, "h1")
    assert live.batch_type is None

    # an empty answer is an empty batch
    assert others(client.feed(b":irc.test BATCH +b2 chathistory #empty\r\n:irc.test BATCH -b2\r\n")) == [
        ev.HistoryEnd("#empty", 0, None)
    ]


def test_no_chathistory_without_the_capability_or_batch() -> None:
    for caps in ("batch server-time", "draft/chathistory server-time"):
        client = history_client(caps=caps, isupport="")
        assert not client.supports_chathistory and client.chathistory_limit is None
        assert client.chathistory_latest("#team", 10) == []


# --------------------------------------------------------------------------------------------- SASL


def test_sasl_external_when_offered_else_plain() -> None:
    client = IrcClient("alice", password="pw", sasl_external=True)
    client.start()
    client.feed(LS.encode())
    assert sent(client.feed(b":irc.test CAP alice ACK :sasl batch\r\n")) == ["AUTHENTICATE EXTERNAL"]
    assert sent(client.feed(b"AUTHENTICATE +\r\n")) == ["AUTHENTICATE +"]
    # the certificate is not registered: the password is tried next
    assert sent(client.feed(b":irc.test 904 alice :SASL authentication failed\r\n")) == ["AUTHENTICATE PLAIN"]
    assert sent(client.feed(b"AUTHENTICATE +\r\n")) == [
        "AUTHENTICATE " + base64.b64encode(b"alice\0alice\0pw").decode()
    ]
    out = client.feed(b":irc.test 900 alice alice!a@h alice :You are now logged in as alice\r\n")
    assert out == [ev.LoggedIn("alice", "PLAIN")] and client.account == "alice"
    assert sent(client.feed(b":irc.test 903 alice :ok\r\n")) == ["CAP END"]

    client = IrcClient("alice", sasl_external=True)  # certificate only
    client.start()
    client.feed(LS.encode())
    assert sent(client.feed(b":irc.test CAP alice ACK :sasl\r\n")) == ["AUTHENTICATE EXTERNAL"]
    assert sent(client.feed(b"AUTHENTICATE +\r\n")) == ["AUTHENTICATE +"]
    assert others(client.feed(b":irc.test 904 alice :SASL authentication failed\r\n")) == [
        ev.SaslFailed("SASL authentication failed")
    ]

    client = IrcClient("alice", password="pw", sasl_external=True)  # the server has no EXTERNAL: PLAIN
    client.start()
    client.feed(b":irc.test CAP * LS :sasl=PLAIN\r\n")
    assert sent(client.feed(b":irc.test CAP alice ACK :sasl\r\n")) == ["AUTHENTICATE PLAIN"]

    client = IrcClient("alice", sasl_external=True)  # no EXTERNAL and no password: nothing to log in with
    client.start()
    client.feed(b":irc.test CAP * LS :sasl=PLAIN\r\n")
    [failed] = others(client.feed(b":irc.test CAP alice ACK :sasl\r\n"))
    assert isinstance(failed, ev.SaslFailed) and "PLAIN" in failed.reason


# ------------------------------------------------------------------------------------------ adapter


class FakeConnection:
    """Stands in for ``IrcConnection``: records the lines the adapter writes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.is_open = True

    def send(self, messages: list[IrcMessage]) -> None:
        self.lines.extend(message.to_line() for message in messages)

    async def close(self, quit_message: IrcMessage | None = None) -> None:
        self.is_open = False


def wired(settings: AccountSettings, client: IrcClient) -> tuple[IrcAdapter, EventCollector, FakeConnection]:
    sink = EventCollector()
    adapter = IrcAdapter(settings, sink)
    connection = FakeConnection()
    adapter._client = client
    adapter._connection = connection  # type: ignore[assignment]
    adapter._connected = True
    return adapter, sink, connection


def deliver(adapter: IrcAdapter, connection: FakeConnection, data: bytes) -> None:
    """What ``IrcConnection`` does with bytes from the server."""
    assert adapter._client is not None
    events = adapter._client.feed(data)
    connection.send([e.message for e in events if isinstance(e, ev.Send)])
    adapter._on_events([e for e in events if not isinstance(e, ev.Send)])


async def run_pending() -> None:
    """Lets the adapter's ready tasks run (a few loop turns, no time involved: the connection is fake, so
    nothing else can come in meanwhile)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_adapter_asks_for_history_after_join_and_remembers_the_last_time(tmp_path: Path) -> None:
    settings = AccountSettings("irc:alice", "alice", server="irc.test:6697", data_dir=tmp_path)
    adapter, sink, connection = wired(settings, history_client())
    joining = asyncio.create_task(adapter._join("#team"))
    await run_pending()
    assert connection.lines == ["JOIN #team"]
    deliver(adapter, connection, b":alice!a@h JOIN #team\r\n:irc.test 366 alice #team :End of /NAMES list.\r\n")
    await run_pending()
    assert "@label=~h1 CHATHISTORY LATEST #team * 50" in connection.lines  # nothing seen yet: the newest
    assert not joining.done()  # the JOIN waits for its history
    deliver(
        adapter,
        connection,
        b"@label=~h1 :irc.test BATCH +b1 chathistory #team\r\n"
        b"@batch=b1;time=2024-01-02T03:04:06.000Z;msgid=m1 :bob!b@h PRIVMSG #team :one\r\n"
        b"@batch=b1;time=2024-01-02T03:04:07.500Z;msgid=m2 :alice!a@h PRIVMSG #team :mine\r\n"
        b":irc.test BATCH -b1\r\n",
    )
    # The server may send fewer than asked and still hold more: the next page, until one is empty.
    await run_pending()
    assert connection.lines[-1] == "@label=~h2 CHATHISTORY AFTER #team timestamp=2024-01-02T03:04:07.500Z 50"
    assert not joining.done()
    deliver(adapter, connection, b"@label=~h2 :irc.test BATCH +b2 chathistory #team\r\n:irc.test BATCH -b2\r\n")
    await asyncio.wait_for(joining, 1)
    one, mine = sink.of_type(MessageReceived)
    room = ConversationKey.room("irc:alice", "#team")
    assert (one.conversation, one.body, one.server_id, one.is_backfill) == (room, "one", "m1", True)
    assert one.timestamp == datetime(2024, 1, 2, 3, 4, 6, tzinfo=UTC)
    assert mine.is_own_echo and mine.is_backfill and mine.server_id == "m2"
    # The last time seen is a position the core stores with the message; no file written at emit time.
    assert one.position == ResumePosition("chathistory:#team", "2024-01-02T03:04:06+00:00")
    assert mine.position == ResumePosition("chathistory:#team", "2024-01-02T03:04:07.500000+00:00")
    assert not (tmp_path / LAST_SEEN_FILE).exists()

    # fetch_history: the newest N without ``after``, else those after it
    fetching = asyncio.create_task(adapter.fetch_history(room, None, 5))
    await run_pending()
    assert connection.lines[-1] == "@label=~h3 CHATHISTORY LATEST #team * 5"
    deliver(adapter, connection, b"@label=~h3 :irc.test BATCH +b3 chathistory #team\r\n:irc.test BATCH -b3\r\n")
    assert await asyncio.wait_for(fetching, 1) == 0
    fetching = asyncio.create_task(adapter.fetch_history(room, datetime(2024, 1, 1, tzinfo=UTC), 5))
    await run_pending()
    assert connection.lines[-1] == "@label=~h4 CHATHISTORY AFTER #team timestamp=2024-01-01T00:00:00.000Z 5"
    deliver(adapter, connection, b"@label=~h4 FAIL CHATHISTORY MESSAGE_ERROR #team :no history here\r\n")
    with pytest.raises(ProtocolError, match="no history here"):
        await asyncio.wait_for(fetching, 1)
    await adapter.disconnect()

    # a new adapter (after a restart), resumed from what the core stored, asks only for what came after
    stored = stored_positions(sink)
    adapter, sink, connection = wired(settings, history_client())
    adapter.resume_from(stored)
    joining = asyncio.create_task(adapter._join("#team"))
    await run_pending()
    deliver(adapter, connection, b":alice!a@h JOIN #team\r\n:irc.test 366 alice #team :End\r\n")
    await run_pending()
    assert "@label=~h1 CHATHISTORY AFTER #team timestamp=2024-01-02T03:04:07.500Z 50" in connection.lines
    deliver(adapter, connection, b"@label=~h1 :irc.test BATCH +b1 chathistory #team\r\n:irc.test BATCH -b1\r\n")
    await asyncio.wait_for(joining, 1)
    await adapter.disconnect()


async def test_fetch_history_without_chathistory_is_unsupported() -> None:
    settings = AccountSettings("irc:alice", "alice", server="irc.test:6697")
    adapter, _, connection = wired(settings, history_client(caps="batch server-time", isupport=""))
    with pytest.raises(UnsupportedError):
        await adapter.fetch_history(ConversationKey.room("irc:alice", "#team"), None, 10)
    joining = asyncio.create_task(adapter._join("#team"))  # and a JOIN asks for no history
    await run_pending()
    deliver(adapter, connection, b":alice!a@h JOIN #team\r\n:irc.test 366 alice #team :End\r\n")
    await asyncio.wait_for(joining, 1)
    assert not any("CHATHISTORY" in line for line in connection.lines)
    await adapter.disconnect()
