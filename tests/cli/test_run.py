"""``run --headless``: state lines, stopping on signals, one instance per profile, no retry on a wrong
password."""

from __future__ import annotations

import asyncio
import re
import signal

import pytest

from tests.cli.conftest import CountingServer, Profile, Users, state_pattern, wait_until

RETRY = r"; retrying in \d+\.\d s$"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_headless_prints_state_changes_and_stops_cleanly_on_a_signal(
    profile: Profile, server: CountingServer, users: Users, sig: signal.Signals
) -> None:
    alice = users.alice
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)
    connecting = headless.matching(state_pattern(alice, "connecting"))
    assert len(connecting) == 1
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", connecting[0]), connecting[0]
    await wait_until(lambda: server.online(alice.address), "alice online on the server")
    assert profile.control_socket.exists()

    assert await headless.stop(sig) == 0
    assert headless.matching(state_pattern(alice, "offline"))
    assert headless.lines[-1].endswith(" stopped"), headless.output()
    assert headless.errors == [], headless.output()
    await wait_until(lambda: not server.online(alice.address), "alice offline on the server")
    assert not profile.control_socket.exists()
    # The profile is free again.
    (await profile.run("account", "disable", alice.address)).ok()


async def test_a_second_instance_on_the_same_profile_is_refused(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice = users.alice
    await profile.add(alice, server)
    first = await profile.headless(connected=alice)
    connections = server.connections

    line = (await profile.run("run", "--headless")).error_line(1)
    assert "in use" in line and f"pid {first.pid}" in line, line
    assert server.connections == connections  # the second one did not connect anything
    assert first.running and server.online(alice.address)
    assert await first.stop() == 0


async def test_headless_says_when_it_waits_and_why_then_reconnects(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice = users.alice
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)

    mark = len(headless.lines)
    await server.drop_connections()
    waiting = headless.lines[await headless.wait_state(alice, "waiting", start=mark)]
    assert re.search(r"waiting: .*closed the connection" + RETRY, waiting), waiting
    await headless.wait_state(alice, "connected", start=mark, timeout=5)

    mark = len(headless.lines)
    server.fail_next_logins(1)
    await server.drop_connections()
    refused = headless.lines[await headless.wait_line(r"temporarily unavailable" + RETRY, start=mark)]
    assert re.search(state_pattern(alice, "waiting"), refused), refused
    await headless.wait_state(alice, "connected", start=mark, timeout=5)
    assert await headless.stop() == 0


async def test_a_wrong_password_fails_once_and_is_not_retried(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice = users.alice
    await profile.add(alice, server, password="not-" + alice.password)
    headless = await profile.headless()
    failed = headless.lines[await headless.wait_state(alice, "failed")]
    assert re.search(r"wrong password|authenticat", failed, re.IGNORECASE), failed
    await asyncio.sleep(3)  # the observation window: a retrying client would try several times here
    assert server.connections == 1
    assert len(headless.matching(state_pattern(alice, "connecting"))) == 1, headless.output()
    assert headless.matching(state_pattern(alice, "waiting")) == []
    assert headless.running
    assert await headless.stop() == 0


async def test_headless_stops_promptly_while_a_server_does_not_answer_the_login(profile: Profile, users: Users) -> None:
    """Ctrl+C must not wait for a hanging connection attempt to time out (10 s here, 30 s elsewhere)."""

    login_on_the_wire = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await reader.read(1):
            login_on_the_wire.set()
            await reader.read()  # until the client goes away
        writer.close()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        alice = users.alice
        added = await profile.run(
            *("account", "add", "fake", alice.address, "--server", f"127.0.0.1:{port}", "--allow-plaintext"),
            "--password-stdin",
            stdin=alice.password + "\n",
        )
        added.ok()
        headless = await profile.headless()
        await headless.wait_state(alice, "connecting")
        await asyncio.wait_for(login_on_the_wire.wait(), 10)  # the login is on the wire and unanswered
        mark = len(headless.lines)
        assert await headless.stop(signal.SIGINT, timeout=3.0) == 0
        after = headless.lines[mark:]
        assert not [line for line in after if "retrying" in line], headless.output()
        assert headless.lines[-1].endswith(" stopped")
    finally:
        silent.close()
        await silent.wait_closed()
