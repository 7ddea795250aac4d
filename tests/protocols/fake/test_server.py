"""The fake server on the wire, driven by raw clients: bad input, logins, queues, idempotency, echoes."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from protocols.fake import wire
from protocols.fake.server import FakeServer
from tests.contract.fake_harness import FakePeer
from tests.protocols.fake.conftest import ALICE, BOB, PASSWORDS

NewPeer = Callable[..., Awaitable[FakePeer]]


async def _exchange(port: int, *lines: bytes, until: str = "pong") -> list[wire.Frame]:
    """Sends raw lines on a fresh connection, then a ping; returns every frame before the pong."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"".join(lines) + b'{"op": "ping"}\n')
        frames = []
        async with asyncio.timeout(5):
            while (frame := wire.decode(await reader.readline()))["op"] != until:
                frames.append(frame)
        return frames
    finally:
        writer.close()


LOGIN_ALICE = b'{"op": "login", "user": "alice@fake.test", "password": "alice-pw"}\n'


async def test_bad_input_gets_error_lines_and_the_server_keeps_going(server: FakeServer) -> None:
    before_login = await _exchange(
        server.port,
        b"this is not json\n",
        b"[1, 2, 3]\n",
        b'{"op": "send", "to": "bob@fake.test", "body": "x"}\n',
        b"\xff\xfe\n",
        b'{"op": "login", "user": "alice@fake.test"}\n',
        b"x" * (wire.LINE_LIMIT + 10) + b"\n",
    )
    assert [frame["op"] for frame in before_login] == ["error"] * 6
    assert "not JSON" in before_login[0]["reason"]
    assert "not logged in" in before_login[2]["reason"]
    assert "too long" in before_login[5]["reason"]
    after_login = await _exchange(
        server.port,
        LOGIN_ALICE,
        b'{"op": "dance"}\n',
        b'{"op": "send", "id": 7, "to": "bob@fake.test"}\n',
        b'{"op": "presence", "kind": "sleepy"}\n',
        LOGIN_ALICE,
    )
    assert [frame["op"] for frame in after_login] == ["login_ok", "roster", "error", "error", "error", "error"]
    assert "unknown op" in after_login[2]["reason"]
    assert after_login[3]["id"] == 7
    assert "already logged in" in after_login[5]["reason"]
    assert (await _exchange(server.port, LOGIN_ALICE))[0]["op"] == "login_ok"


async def test_wrong_password_and_unknown_user_get_a_reason(server: FakeServer) -> None:
    wrong, unknown = await _exchange(
        server.port,
        b'{"op": "login", "user": "alice@fake.test", "password": "nope"}\n',
        b'{"op": "login", "user": "zed@fake.test", "password": "nope"}\n',
    )
    assert wrong == {"op": "login_error", "reason": "wrong password", "temporary": False}
    assert unknown["reason"] == "unknown user"


async def test_offline_queue_keeps_the_server_timestamp(server: FakeServer, peer: NewPeer) -> None:
    when = datetime(2021, 6, 7, 8, 9, 10, tzinfo=UTC)
    stored = await server.deliver(BOB, ALICE, "queued", timestamp=when, server_id="custom-1")
    assert not server.online(ALICE)
    alice = await peer(ALICE)
    frame = await alice.wait_frame(lambda f: f["op"] == "message")
    assert frame["offline"] is True
    assert frame["server_id"] == stored.server_id == "custom-1"
    assert wire.parse_timestamp(frame["timestamp"]) == when


async def test_sends_get_server_ids_and_same_key_is_acked_with_the_original(server: FakeServer, peer: NewPeer) -> None:
    alice, bob = await peer(ALICE), await peer(BOB)
    send = {"op": "send", "to": BOB, "body": "hi", "key": "k-1"}
    first, again = await alice.request(send), await alice.request(send)
    assert re.fullmatch(r"s-\d+", first["server_id"])
    assert again["server_id"] == first["server_id"]
    assert wire.parse_timestamp(first["timestamp"]).tzinfo is UTC
    assert await bob.next_message() == (ALICE, "hi")
    await alice.request({"op": "send", "to": BOB, "body": "marker", "key": "k-marker"})
    assert await bob.next_message() == (ALICE, "marker")  # no second "hi" before it
    assert [(m.body, m.idempotency_key) for m in server.received(ALICE)] == [("hi", "k-1"), ("marker", "k-marker")]
    other = await alice.request({"op": "send", "to": BOB, "body": "hi", "key": "k-2"})
    assert other["server_id"] != first["server_id"]


async def test_sends_are_echoed_to_the_senders_sessions(server: FakeServer, peer: NewPeer) -> None:
    phone, desktop = await peer(ALICE), await peer(ALICE)
    await phone.request({"op": "send", "to": BOB, "body": "carbon", "key": "k"})
    for session in (phone, desktop):
        echo = await session.wait_frame(lambda f: f["op"] == "message")
        assert (echo["echo"], echo["key"], echo["to"], echo["body"]) == (True, "k", BOB, "carbon")
    await server.deliver(ALICE, BOB, "sent elsewhere")
    await desktop.wait_frame(lambda f: f["op"] == "message" and f["body"] == "sent elsewhere" and f["echo"])


async def test_scripted_failures(server: FakeServer, peer: NewPeer) -> None:
    server.fail_next_logins(1)
    (failed,) = await _exchange(server.port, LOGIN_ALICE)
    assert failed["temporary"] is True
    alice = await peer(ALICE)
    server.reject_sends = True
    rejected = await alice.request({"op": "send", "to": BOB, "body": "x", "key": "k"})
    assert rejected["op"] == "error"
    server.reject_sends = False
    server.ack_delay = 0.3
    started = asyncio.get_running_loop().time()
    await alice.request({"op": "send", "to": BOB, "body": "x", "key": "k"})
    assert asyncio.get_running_loop().time() - started >= 0.25
    too_long = await alice.request({"op": "send", "to": BOB, "body": "x" * (wire.MAX_BODY_LENGTH + 1)})
    assert too_long["op"] == "error"


async def test_drop_connections_keeps_listening(server: FakeServer, peer: NewPeer) -> None:
    await peer(ALICE)
    assert server.online(ALICE)
    await server.drop_connections()
    assert not server.online(ALICE)
    await peer(ALICE)
    assert server.online(ALICE)


async def test_explicit_roster_limits_presence(server: FakeServer, peer: NewPeer) -> None:
    server.set_roster(ALICE, [BOB])
    alice = await peer(ALICE)
    roster = await alice.wait_frame(lambda f: f["op"] == "roster")
    assert [item["handle"] for item in roster["items"]] == [BOB]
    await peer("carol@fake.test")
    await peer(BOB)
    await alice.wait_frame(lambda f: f["op"] == "presence" and f["from"] == BOB)
    assert not [f for f in alice.frames if f.get("from") == "carol@fake.test"]


async def test_runs_standalone() -> None:
    user = f"{ALICE}:{PASSWORDS[ALICE]}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "protocols.fake.server", "--port", "0", "--user", user, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(20):
            while not (found := re.search(rb"listening on [\d.]+:(\d+)", await process.stderr.readline())):
                pass
        login_ok, roster = await _exchange(int(found.group(1)), LOGIN_ALICE)
        assert (login_ok["op"], roster["items"]) == ("login_ok", [])
    finally:
        process.terminate()
        await process.wait()
