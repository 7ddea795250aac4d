"""``send ACCOUNT TO TEXT``: through a running instance, on its own, and while the server is down."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Callable

from tests.cli.conftest import CountingServer, Message, Profile, Users, file_mode, wait_until


def outgoing(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m["body"], m["state"]) for m in messages if m["direction"] == "out"]


def all_sent(count: int) -> Callable[[list[Message]], bool]:
    return lambda messages: len(messages) == count and all(m["state"] == "sent" for m in messages)


async def test_send_through_the_running_instance(profile: Profile, server: CountingServer, users: Users) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)
    socket = profile.control_socket
    assert stat.S_ISSOCK(socket.stat().st_mode)
    assert file_mode(socket) == 0o600
    assert file_mode(socket.parent) == 0o700
    connections = server.connections

    result = (await profile.run("send", alice.address, bob.address, "hi bob, via the instance")).ok()
    assert result.stdout.startswith("Sent message "), str(result)
    assert [(m.body, m.to) for m in server.received(alice.address)] == [("hi bob, via the instance", bob.address)]
    assert server.connections == connections  # the instance's connection was used, no new login
    (message,) = await profile.history(bob)
    assert (message["direction"], message["state"], message["sender"]) == ("out", "sent", alice.address)
    assert message["body"] == "hi bob, via the instance"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", message["sent_at"]), message
    assert str(message["id"]) in result.stdout

    assert await headless.stop() == 0
    assert len(server.received(alice.address)) == 1


async def test_send_without_an_instance_connects_and_waits_for_the_ack(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    server.ack_delay = 0.5  # the command must wait for it

    started = time.monotonic()
    result = (await profile.run("send", alice.account_id, bob.address, "hi bob, on my own")).ok()
    assert time.monotonic() - started >= 0.5
    assert result.stdout.startswith("Sent message "), str(result)
    assert [m.body for m in server.received(alice.address)] == ["hi bob, on my own"]
    assert not server.online(alice.address)  # and it disconnected afterwards
    (message,) = await profile.history(bob)
    assert (message["direction"], message["state"], message["body"]) == ("out", "sent", "hi bob, on my own")


async def test_send_while_the_server_is_down_queues_and_a_later_run_delivers_once(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    await server.stop()

    for text in ("first while down", "second while down"):
        result = await profile.run("send", alice.address, bob.address, text)
        line = result.error_line(1)
        assert "cannot reach" in line and "queued" in line, line
    assert outgoing(await profile.history(bob)) == [("first while down", "pending"), ("second while down", "pending")]

    await server.start()  # same port
    headless = await profile.headless(connected=alice)
    await wait_until(lambda: len(server.received(alice.address)) >= 2, "the queued messages at the server")
    messages = await profile.wait_history(bob, all_sent(2))
    assert outgoing(messages) == [("first while down", "sent"), ("second while down", "sent")]
    assert await headless.stop() == 0
    assert [m.body for m in server.received(alice.address)] == ["first while down", "second while down"]


async def test_send_to_a_running_instance_while_the_server_is_down_is_queued_and_goes_out_in_order(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    alice, bob = users.alice, users.bob
    await profile.add(alice, server)
    headless = await profile.headless(connected=alice)

    mark = len(headless.lines)
    await server.stop()
    await headless.wait_state(alice, "waiting", start=mark)
    texts = [f"queued {n}" for n in range(1, 4)]
    for text in texts:
        result = (await profile.run("send", alice.address, bob.address, text)).ok()
        assert result.stdout.startswith("Queued message "), str(result)
        assert "will be sent when it reconnects" in result.stdout
    assert outgoing(await profile.history(bob)) == [(text, "pending") for text in texts]
    assert server.received(alice.address) == []

    mark = len(headless.lines)
    await server.start()  # same port
    restarted = time.monotonic()
    await headless.wait_state(alice, "connected", start=mark, timeout=1.0 + 3.0)  # backoff cap + slack
    assert time.monotonic() - restarted < 1.0 + 3.0
    await wait_until(lambda: len(server.received(alice.address)) >= 3, "the queued messages at the server")
    messages = await profile.wait_history(bob, all_sent(3))
    assert outgoing(messages) == [(text, "sent") for text in texts]
    assert await headless.stop() == 0
    assert [m.body for m in server.received(alice.address)] == texts
