"""The IRC adapter against the session's InspIRCd + Atheme (``tests/servers/irc.py``)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from aggregator.api import (
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    ConnectionLost,
    ConversationKey,
    Credentials,
    MessageKind,
    MessageReceived,
    NetworkError,
    OutgoingMessage,
    PlaintextRefusedError,
    RoomJoined,
    RoomMembers,
    RoomTopic,
    SupportsGroupChat,
)
from protocols.irc import PROTOCOL
from protocols.irc import events as ev
from protocols.irc.adapter import IrcAdapter
from tests.contract.irc_harness import IrcHarness, IrcPeer
from tests.contract.sink import EventCollector
from tests.servers.irc import IrcServer

Made = tuple[IrcAdapter, EventCollector, str]
NewAdapter = Callable[..., Awaitable[Made]]


@pytest.fixture
async def new_adapter(irc_harness: IrcHarness) -> AsyncIterator[NewAdapter]:
    made: list[IrcAdapter] = []

    async def make(*, connect: bool = True, password: str | None = None, plain: bool = False, **options: str) -> Made:
        nick, real_password = await irc_harness.new_user()
        account_id = f"irc:{nick}"
        settings = (
            irc_harness.plain_settings(account_id, nick, **options)
            if plain
            else irc_harness.settings(account_id, nick, **options)
        )
        sink = EventCollector()
        adapter = IrcAdapter(settings, sink)
        made.append(adapter)
        if connect:
            await adapter.connect(Credentials(password or real_password))
        return adapter, sink, real_password

    yield make
    for adapter in made:
        await adapter.disconnect()


async def test_wrong_password_is_an_authentication_error(new_adapter: NewAdapter) -> None:
    adapter, sink, password = await new_adapter(connect=False)
    wrong = "Wr0ng-" + secrets.token_hex(6)
    with pytest.raises(AuthenticationError) as raised:
        await adapter.connect(Credentials(wrong))
    assert wrong not in repr(raised.value) and password not in repr(raised.value)
    assert not sink.of_type(ConnectionLost)


async def test_plaintext_is_refused_without_opt_in(irc_harness: IrcHarness, irc_server: IrcServer) -> None:
    nick, password = await irc_harness.new_user()
    settings = irc_harness.settings("irc:x", nick).__class__("irc:x", nick, server=irc_server.address)
    adapter = IrcAdapter(settings, EventCollector())
    with pytest.raises(PlaintextRefusedError) as raised:
        await adapter.connect(Credentials(password))
    assert "plaintext" in str(raised.value)
    await adapter.disconnect()


async def test_untrusted_certificate_is_a_certificate_error(irc_harness: IrcHarness) -> None:
    nick, password = await irc_harness.new_user()
    settings = irc_harness.settings("irc:x", nick)
    settings = settings.__class__("irc:x", nick, server=settings.server)  # no test CA: system trust store
    adapter = IrcAdapter(settings, EventCollector())
    with pytest.raises(CertificateError):
        await adapter.connect(Credentials(password))
    await adapter.disconnect()


def test_bad_settings_are_configuration_errors() -> None:
    from aggregator.api import AccountSettings

    for settings in (
        AccountSettings("a", "alice", server=None),
        AccountSettings("a", "alice", server="host:0"),
        AccountSettings("a", "1nick", server="host:6697"),
        AccountSettings("a", "alice", server="host:6697", options={"encoding": "no-such-codec"}),
        AccountSettings("a", "alice", server="host:6697", options={"client_key": "/some/key.pem"}),  # no cert
        AccountSettings("a", "alice", server="h:1", allow_plaintext=True, options={"client_cert": "/c.pem"}),
    ):
        with pytest.raises(ConfigurationError):
            IrcAdapter(settings, EventCollector())
    assert isinstance(IrcAdapter(AccountSettings("a", "alice", server="h:1"), EventCollector()), SupportsGroupChat)


async def test_joined_channel_and_private_messages_carry_server_time(
    irc_harness: IrcHarness, new_adapter: NewAdapter
) -> None:
    bob = await irc_harness.new_peer()
    team = f"#team-{secrets.token_hex(3)}"
    await bob.join(team)
    history = await bob.send_message(team, "said before you came")
    # The adapter joins nothing on its own, not even what an autojoin option names (the core does that).
    adapter, sink, _ = await new_adapter(autojoin=team)
    # A round trip on the adapter's connection after the login: a JOIN it had sent would be answered first.
    await bob.send(adapter._nick, "after your login")
    await sink.wait_for(MessageReceived, lambda e: e.body == "after your login")
    assert sink.of_type(RoomJoined) == []
    room = await adapter.join_room(team)
    assert room == ConversationKey.room(adapter._account_id, team)
    # join_room waited for the join: the replay (+H) came as backfill with the original msgid
    assert [e.conversation for e in sink.of_type(RoomJoined)] == [room]
    members = await sink.wait_for(RoomMembers, lambda e: e.conversation == room)
    assert bob.handle in members.members
    replay = await sink.wait_for(MessageReceived, lambda e: e.body == "said before you came")
    assert replay.is_backfill and replay.server_id == history.msgid and replay.timestamp is not None
    assert replay.conversation == room

    await bob.send(team, "hello channel")
    await bob.send(adapter._nick, "hello you")
    await bob.send_message(adapter._nick, "waves", action=True)
    in_room = await sink.wait_for(MessageReceived, lambda e: e.body == "hello channel")
    private = await sink.wait_for(MessageReceived, lambda e: e.body == "hello you")
    action = await sink.wait_for(MessageReceived, lambda e: e.body == "waves")
    assert in_room.conversation == room and not in_room.is_backfill
    assert private.conversation == ConversationKey.direct(adapter._account_id, bob.handle)
    assert action.kind is MessageKind.ACTION
    for event in (in_room, private, action):
        assert event.server_id and event.timestamp is not None and event.timestamp.tzinfo is not None
        assert event.sender == bob.handle


async def test_send_to_room_long_message_and_unknown_nick(irc_harness: IrcHarness, new_adapter: NewAdapter) -> None:
    bob = await irc_harness.new_peer()
    adapter, sink, _ = await new_adapter()
    room = await adapter.join_room(f"team-{secrets.token_hex(3)}")
    await bob.join(room.handle)
    receipt = await adapter.send_message(room, OutgoingMessage("to everyone", "key-1"))
    assert receipt.remote_id and receipt.timestamp is not None
    echo = await sink.wait_for(MessageReceived, lambda e: e.body == "to everyone")
    assert echo.is_own_echo and echo.idempotency_key == "key-1" and echo.server_id == receipt.remote_id

    long_body = " ".join(f"wörd{i}" for i in range(400))  # ~3 kB: several lines
    to_bob = ConversationKey.direct(adapter._account_id, bob.handle)
    await adapter.send_message(to_bob, OutgoingMessage(long_body, "k2"))
    parts: list[str] = []
    while "".join(parts) != long_body:
        parts.append((await bob.next_message())[1])
    assert len(parts) > 1

    with pytest.raises(Exception, match="No such nick"):
        nobody = ConversationKey.direct(adapter._account_id, "nobody-here")
        await adapter.send_message(nobody, OutgoingMessage("x", "k3"))


async def test_topic_and_leave(irc_harness: IrcHarness, new_adapter: NewAdapter) -> None:
    adapter, sink, _ = await new_adapter()
    room = await adapter.join_room(f"#Topic-{secrets.token_hex(3)}")
    assert room.handle == room.handle.lower()
    await adapter.set_topic(room, "today: tests")
    topic = await sink.wait_for(RoomTopic, lambda e: e.conversation == room)
    assert topic.topic == "today: tests"
    await adapter.leave_room(room)


async def test_hostile_lines_from_a_peer_do_not_crash_anything(
    irc_harness: IrcHarness, new_adapter: NewAdapter
) -> None:
    adapter, sink, _ = await new_adapter()
    bob: IrcPeer = await irc_harness.new_peer()
    nick = adapter._nick.encode()
    bob.write_raw(b"PRIVMSG " + nick + b" :latin-1 caf\xe9 and bad \xff\xfe bytes\r\n")
    bob.write_raw(b"PRIVMSG " + nick + b" :nul\x00 inside\r\n")
    bob.write_raw(b"PRIVMSG " + nick + b" :" + b"y" * 2000 + b"\r\n")  # the server cuts it to 512
    bob.write_raw(b"PRIVMSG " + nick + b" :\x01\x01\x01ACTION\r\n")
    await bob.send(adapter._nick, "still alive")
    await sink.wait_for(MessageReceived, lambda e: e.body == "still alive")
    bodies = [e.body for e in sink.of_type(MessageReceived)]
    assert "latin-1 café and bad ÿþ bytes" in bodies
    assert any(body.startswith("yyy") and len(body.encode()) < 512 for body in bodies)
    assert not sink.of_type(ConnectionLost)


async def test_lag_check_reports_a_silent_server(irc_server: IrcServer, new_adapter: NewAdapter) -> None:
    _, sink, _ = await new_adapter(lag_interval="0.3", lag_timeout="0.7")
    irc_server.pause()
    try:
        lost = await sink.wait_for(ConnectionLost, timeout=10)
    finally:
        irc_server.resume()
    assert "no reply" in lost.reason


async def test_server_outage_and_reconnect(irc_server: IrcServer, new_adapter: NewAdapter) -> None:
    adapter, sink, password = await new_adapter()
    await asyncio.to_thread(irc_server.stop)
    try:
        lost = await sink.wait_for(ConnectionLost)
        assert lost.retryable
        await adapter.disconnect()
        with pytest.raises(NetworkError):
            await adapter.connect(Credentials(password))
    finally:
        await asyncio.to_thread(irc_server.start)
    await adapter.connect(Credentials(password))  # same ports, and Atheme kept the account


def test_protocol_is_registered() -> None:
    from importlib.metadata import entry_points

    assert any(e.name == "irc" and e.load() is PROTOCOL for e in entry_points(group="aggregator.protocols"))


async def test_a_split_message_is_reported_by_its_first_line_only_live_and_in_the_replay(
    irc_harness: IrcHarness, tmp_path: Path
) -> None:
    """The core stores a long message once (the pending row, confirmed by the first line's echo); the
    echoes of the other lines are not reported, neither live nor when the channel replay brings them
    back to a new adapter (their msgids are kept in the account's data directory)."""
    bob = await irc_harness.new_peer()
    team = f"#split-{secrets.token_hex(3)}"
    await bob.join(team)
    nick, password = await irc_harness.new_user()
    settings = replace(irc_harness.settings(f"irc:{nick}", nick), data_dir=tmp_path / "irc")
    body = " ".join(f"wörd{i}" for i in range(300))
    room = ConversationKey.room(settings.account_id, team)
    sink = EventCollector()
    adapter = IrcAdapter(settings, sink)
    try:
        await adapter.connect(Credentials(password))
        await adapter.join_room(team)
        receipt = await adapter.send_message(room, OutgoingMessage(body, "split-key"))
        lines: list[ev.Message] = []
        async with asyncio.timeout(15):
            while "".join(e.text for e in lines) != body:
                await bob.sync()
                lines = [e for e in bob.events if isinstance(e, ev.Message) and e.source == nick]
        # A marker's echo comes back after every echo of the lines sent before it.
        marker = await adapter.send_message(room, OutgoingMessage("marker", "marker-key"))
        await sink.wait_for(MessageReceived, lambda e: e.is_own_echo and e.idempotency_key == "marker-key")
        assert len(lines) > 2 and "".join(e.text for e in lines) == body
        (echo, _) = [e for e in sink.of_type(MessageReceived) if e.is_own_echo]
        assert echo.server_id == receipt.remote_id == lines[0].msgid and echo.idempotency_key == "split-key"
    finally:
        await adapter.disconnect()

    again = EventCollector()
    adapter = IrcAdapter(settings, again)
    try:
        await adapter.connect(Credentials(password))
        await adapter.join_room(team)  # waits for the join, replay included
        await bob.send_message(team, "after the replay")
        await again.wait_for(MessageReceived, lambda e: e.body == "after the replay")
        replayed = [e for e in again.of_type(MessageReceived) if e.is_own_echo]
        assert [(e.server_id, e.body, e.is_backfill) for e in replayed] == [
            (lines[0].msgid, lines[0].text, True),
            (marker.remote_id, "marker", True),
        ]
    finally:
        await adapter.disconnect()


def make_client_cert(directory: Path) -> tuple[Path, Path, str]:
    """A self-signed client certificate: (PEM with certificate and key, key alone, SHA-256 fingerprint)."""
    key, crt = directory / "client.key", directory / "client.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=irc client",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    combined = directory / "client.pem"
    combined.write_text(crt.read_text() + key.read_text())
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(crt.read_text())).hexdigest()
    return combined, key, fingerprint


async def test_sasl_external_with_a_client_certificate(irc_harness: IrcHarness, tmp_path: Path) -> None:
    """The certificate is unknown to Atheme at first: EXTERNAL fails and the password (PLAIN) logs in;
    NickServ CERT ADD registers its fingerprint; then the certificate alone logs in (EXTERNAL)."""
    combined, _, fingerprint = await asyncio.to_thread(make_client_cert, tmp_path)
    nick, password = await irc_harness.new_user()
    settings = irc_harness.settings(f"irc:{nick}", nick, client_cert=str(combined))
    sink = EventCollector()
    adapter = IrcAdapter(settings, sink)
    try:
        await adapter.connect(Credentials(password))
        assert adapter._client is not None
        assert (adapter._client.account, adapter._client.sasl_mechanism) == (nick, "PLAIN")
        nickserv = ConversationKey.direct(settings.account_id, "nickserv")
        await adapter.send_message(nickserv, OutgoingMessage(f"CERT ADD {fingerprint}", "cert-add"))
        reply = await sink.wait_for(MessageReceived, lambda e: e.conversation == nickserv and not e.is_own_echo)
        assert fingerprint in reply.body and "added" in reply.body.lower(), reply.body
    finally:
        await adapter.disconnect()

    for cert_settings in (
        settings,
        replace(
            settings,
            options={
                **settings.options,
                "client_cert": str(tmp_path / "client.crt"),
                "client_key": str(tmp_path / "client.key"),
            },
        ),
    ):
        adapter = IrcAdapter(cert_settings, EventCollector())
        try:
            await adapter.connect(Credentials(""))  # no password: the certificate alone
            assert adapter._client is not None
            assert (adapter._client.account, adapter._client.sasl_mechanism) == (nick, "EXTERNAL")
        finally:
            await adapter.disconnect()

    other, _ = await irc_harness.new_user()  # EXTERNAL logs in to the account that registered the certificate
    adapter = IrcAdapter(irc_harness.settings(f"irc:{other}", other, client_cert=str(combined)), EventCollector())
    try:
        await adapter.connect(Credentials(""))
        assert adapter._client is not None and adapter._client.account == nick
    finally:
        await adapter.disconnect()

    (tmp_path / "unknown").mkdir()
    unknown, _, _ = await asyncio.to_thread(make_client_cert, tmp_path / "unknown")  # registered nowhere
    adapter = IrcAdapter(irc_harness.settings(f"irc:{other}", other, client_cert=str(unknown)), EventCollector())
    with pytest.raises(AuthenticationError):
        await adapter.connect(Credentials(""))
    await adapter.disconnect()


async def test_an_unreadable_client_certificate_is_a_configuration_error(
    irc_harness: IrcHarness, tmp_path: Path
) -> None:
    nick, password = await irc_harness.new_user()
    not_pem = tmp_path / "garbage.pem"
    not_pem.write_text("not a certificate")
    for path in (tmp_path / "missing.pem", not_pem, tmp_path):
        adapter = IrcAdapter(irc_harness.settings("irc:x", nick, client_cert=str(path)), EventCollector())
        with pytest.raises(ConfigurationError, match="client certificate"):
            await adapter.connect(Credentials(password))
        await adapter.disconnect()
