"""Issue 13, defects 4 and 5: nothing a person types injects an IRC command or reaches a second person, a
bad target is refused at once and never blocks the queue, and "Sent" means the server had the message:
exactly once, also when the server freezes, crashes or drops the connection.

The real ``aggregator`` console script in subprocesses, against the session's InspIRCd (echo-message and
labeled-response) and a scripted server (``tests/servers/scripted_irc.py``: no echo-message, faults on
demand). Bob and carol are bare IRC clients; what they receive is what a user would see.
"""

from __future__ import annotations

import asyncio
import time

from protocols.irc import events as ev
from tests.cli.conftest import Profile
from tests.cli.test_irc_e2e import (
    CONNECT_TIMEOUT,
    Account,
    add_account,
    start_headless,
    state,
    take_accounts,
)
from tests.contract.irc_harness import IrcPeer
from tests.servers.certs import TestCerts
from tests.servers.irc import HOST, IrcServer
from tests.servers.irc_fixtures import IrcUserPool
from tests.servers.scripted_irc import ScriptedIrcServer

#: How long InspIRCd is frozen: longer than the 30 s the old client waited for the echo before resending.
FREEZE = 45.0


def messages_from(peer: IrcPeer, nick: str) -> list[str]:
    folded = peer.client.casefold(nick)
    return [
        e.text
        for e in peer.events
        if isinstance(e, ev.Message) and not e.is_echo and peer.client.casefold(e.source) == folded
    ]


async def add_scripted(profile: Profile, account: Account, server: ScriptedIrcServer) -> None:
    args = ["account", "add", "irc", account.nick, "--server", server.address, "--allow-plaintext"]
    (await profile.run(*args, "--password-stdin", stdin="\n")).ok()


# ------------------------------------------------------------------------------- (4) injection, targets


async def test_nothing_typed_injects_a_command_or_reaches_a_second_person(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    server = running_irc_server
    alice, bob, carol = await take_accounts(irc_user_pool, 3)
    peers = asyncio.gather(
        IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT),
        IrcPeer.connect(server, carol.nick, timeout=CONNECT_TIMEOUT),
    )
    await add_account(profile, alice, f"{HOST}:{server.tls_port}", test_certs)
    headless = await start_headless(profile, alice)
    mark = len(headless.lines)
    bob_peer, carol_peer = await peers
    try:
        bad_targets = {
            f"{bob.nick},{carol.nick}": "comma",
            f"{bob.nick}\r\nPRIVMSG {carol.nick} :injected": "carriage return",
            f"{bob.nick}\nQUIT :gone": "line feed",
            f"{bob.nick} {carol.nick}": "space",
            f":{bob.nick}": "':'",
        }
        for target, problem in bad_targets.items():
            started = time.monotonic()
            result = await profile.run("send", alice.account_id, target, "for bob only")
            line = result.error_line(2)
            assert problem in line, line
            assert time.monotonic() - started < 15, "refused at once, not after a wait for the server"

        body = f"first line\r\nPRIVMSG {carol.nick} :injected\r\nQUIT :bye\n\n\x01DCC SEND x 1 2 3\x01\rlast"
        sent = (await profile.run("send", alice.account_id, bob.nick, body)).ok()
        assert sent.stdout.startswith("Sent message "), str(sent)
        after = (await profile.run("send", alice.account_id, carol.nick, "only this for carol")).ok()
        assert after.stdout.startswith("Sent message "), str(after)

        expected = ["first line", f"PRIVMSG {carol.nick} :injected", "QUIT :bye", "DCC SEND x 1 2 3", "last"]
        for text in expected:  # one PRIVMSG per line of the body, in order, as plain text
            assert await bob_peer.next_message(timeout=20) == (alice.nick, text)
        assert await carol_peer.next_message(timeout=20) == (alice.nick, "only this for carol")
        await bob_peer.sync()  # carol's line came after everything alice sent to bob: all of it is here
        assert messages_from(bob_peer, alice.nick) == expected
        assert messages_from(carol_peer, alice.nick) == ["only this for carol"]
        assert not [e for e in bob_peer.events if isinstance(e, ev.Message) and e.raw.tags.get("+evil")]
    finally:
        await asyncio.gather(bob_peer.close(), carol_peer.close())

    (to_bob,) = await profile.history(bob.nick)
    assert (to_bob["body"], to_bob["direction"], to_bob["state"]) == (body, "out", "sent")
    (to_carol,) = await profile.history(carol.nick)
    assert to_carol["state"] == "sent"
    assert not headless.matching(state(alice, "(waiting|connecting|failed)"), start=mark), headless.output()
    assert await headless.stop() == 0


# ------------------------------------------------------------------ (4) a frozen server: nothing twice


async def test_a_message_sent_while_the_server_is_frozen_arrives_once(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    server = running_irc_server
    alice, bob = await take_accounts(irc_user_pool, 2)
    bob_online = asyncio.ensure_future(IrcPeer.connect(server, bob.nick, timeout=CONNECT_TIMEOUT))
    await add_account(profile, alice, f"{HOST}:{server.tls_port}", test_certs)
    headless = await start_headless(profile, alice)
    mark = len(headless.lines)
    peer = await bob_online
    try:
        server.pause()  # SIGSTOP: connections stay open, nothing is answered
        try:
            sending = asyncio.ensure_future(
                profile.run("send", alice.account_id, bob.nick, "during the freeze", timeout=FREEZE + 60)
            )
            (row,) = await profile.wait_history(bob.nick, lambda ms: len(ms) == 1, timeout=20)
            assert row["state"] == "pending"  # written, not proved: not "sent"
            await asyncio.sleep(FREEZE)  # the freeze itself (the scenario, not a wait for an outcome)
        finally:
            server.resume()
        result = (await sending).ok()
        assert result.stdout.startswith("Sent message "), str(result)
        assert await peer.next_message(timeout=30) == (alice.nick, "during the freeze")
        (await profile.run("send", alice.account_id, bob.nick, "after the freeze")).ok()
        assert await peer.next_message(timeout=30) == (alice.nick, "after the freeze")  # no copy in between
        assert messages_from(peer, alice.nick) == ["during the freeze", "after the freeze"]
    finally:
        server.resume()
        await peer.close()
    rows = await profile.history(bob.nick)
    assert [(m["body"], m["state"]) for m in rows] == [("during the freeze", "sent"), ("after the freeze", "sent")]
    assert not headless.matching(state(alice, "(waiting|connecting)"), start=mark), headless.output()
    assert await headless.stop() == 0


# -------------------------------------------------------------- (5) no echo-message: sent means proved


async def test_without_echo_message_sent_means_the_server_had_it(profile: Profile) -> None:
    """The scripted server has no echo-message and drops the connection on every 4th PRIVMSG, unread.
    Each ``send`` that says "Sent" was processed by the server; the others go out after the reconnect;
    the server processes every message exactly once and the archive ends with all of them sent."""
    alice = Account("alice", "")
    bodies = [f"message {n}" for n in range(1, 9)]
    async with ScriptedIrcServer(close_after=3) as server:
        await add_scripted(profile, alice, server)
        headless = await start_headless(profile, alice)
        said_sent = 0
        for body in bodies:
            result = (await profile.run("send", alice.account_id, "bob", body)).ok()
            if result.stdout.startswith("Sent message "):
                said_sent += 1
                assert body in server.texts(), f"{body!r} reported sent, but the server never had it"
            else:
                assert result.stdout.startswith("Queued message "), str(result)
        await server.wait_for(lambda: len(server.privmsgs) >= len(bodies), "every message", timeout=30)
        rows = await profile.wait_history(
            "bob", lambda ms: [m["state"] for m in ms] == ["sent"] * len(bodies), timeout=30
        )
        assert [m["body"] for m in rows] == bodies
        assert sorted(server.texts()) == sorted(bodies)  # each exactly once
        assert server.texts() == bodies  # and in order
        assert len({r.connection for r in server.privmsgs}) >= 3  # it really dropped the connection twice
        assert said_sent < len(bodies)
        assert await headless.stop() == 0


async def test_without_echo_message_a_message_is_not_sent_until_the_server_answers(profile: Profile) -> None:
    """A message written while the server is silent is still pending; the server then crashes without
    reading it: the message goes out once after the reconnect, and was never called sent before."""
    alice = Account("alice", "")
    async with ScriptedIrcServer() as server:
        await add_scripted(profile, alice, server)
        headless = await start_headless(profile, alice)
        (await profile.run("send", alice.account_id, "bob", "before")).ok()
        server.freeze()
        sending = asyncio.ensure_future(profile.run("send", alice.account_id, "bob", "while silent"))
        rows = await profile.wait_history("bob", lambda ms: len(ms) == 2, timeout=20)
        assert rows[1]["state"] == "pending"
        await server.wait_for(lambda: len(server.connections) == 1, "the connection")
        server.crash()  # what alice wrote is lost unread
        server.thaw()
        result = (await sending).ok()
        assert not result.stdout.startswith("Sent message "), str(result)
        await server.wait_for(lambda: "while silent" in server.texts(), "the resent message", timeout=30)
        rows = await profile.wait_history("bob", lambda ms: [m["state"] for m in ms] == ["sent", "sent"], timeout=30)
        assert server.texts() == ["before", "while silent"]
        assert [r.connection for r in server.privmsgs] == [1, 2]
        assert await headless.stop() == 0
