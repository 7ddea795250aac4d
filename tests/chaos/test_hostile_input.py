"""Hostile input per protocol. Nothing is injected (a second client sees exactly what was intended, the
terminal gets no control sequence from a peer), nothing is forged into the archive, and the client keeps
working afterwards.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from typing import Any

import pytest

from protocols.irc import events as ev
from tests.chaos.sides import (
    CONNECT_TIMEOUT,
    DELIVERY_TIMEOUT,
    assert_keeps_working,
    bodies_of,
    irc_side,
    matrix_side,
    search,
    state,
    wait_for,
    xmpp_side,
)
from tests.cli.conftest import Headless, Profile, Result
from tests.contract.irc_harness import IrcPeer
from tests.servers.certs import TestCerts
from tests.servers.irc import IrcServer
from tests.servers.irc_fixtures import IrcUserPool
from tests.servers.prosody import ProsodyServer
from tests.servers.synapse import SynapseError, SynapseServer

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

#: What a peer must never get onto alice's terminal: ESC (colours, cursor moves, titles), CR, BEL, ...
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")
#: A refusal is "at once": well under the 30 s a wait for the server would take.
REFUSED_WITHIN = 8.0


JUNK = "<x xmlns='urn:example:junk'/>"


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


async def attempt(profile: Profile, problems: list[str], *args: str) -> Result | None:
    """Runs a command; one that hangs is a problem to report (with the others), not the end of the test."""
    try:
        return await profile.run(*args, timeout=DELIVERY_TIMEOUT)
    except AssertionError:
        problems.append(f"aggregator {' '.join(map(repr, args))} did not finish within {DELIVERY_TIMEOUT:g} s")
        return None


def still_connected(headless: Headless, account_id: str, mark: int) -> None:
    assert headless.running, f"the client died\n{headless.output()}"
    dropped = headless.matching(state(account_id, "(waiting|connecting|failed|disconnected)"), start=mark)
    assert not dropped, f"the connection dropped: {dropped}\n{headless.output()}"
    assert not [line for line in headless.errors if "Traceback" in line], headless.output()


# -------------------------------------------------------------------------------------------- IRC


async def test_irc_targets_and_bodies_from_the_cli_inject_no_command(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    async with irc_side(profile, running_irc_server, irc_user_pool, test_certs) as side:
        carol = await IrcPeer.connect(running_irc_server, f"carol{secrets.token_hex(3)}", timeout=CONNECT_TIMEOUT)
        try:
            headless = await side.start(profile)
            mark = len(headless.lines)
            bob, c = side.bob.address, carol.address
            problems: list[str] = []
            bad_targets = [
                f"{bob}\r\nPRIVMSG {c} :injected by a CR LF target",
                f"{bob}\nPRIVMSG {c} :injected by an LF target",
                f"{bob}\rPRIVMSG {c} :injected by a CR target",
                f"{bob},{c}",
                f"{bob} {c}",
                f":{c}",
            ]
            for target in bad_targets:
                try:
                    refused = await profile.run(
                        "send", side.account_id, target, "to a bad target", timeout=REFUSED_WITHIN
                    )
                except AssertionError:
                    problems.append(f"send to {target!r} was not refused within {REFUSED_WITHIN:g} s")
                    continue
                lines = [x for x in refused.stderr.splitlines() if x.strip()]
                if refused.rc == 0:
                    problems.append(f"send to {target!r} was accepted: {refused.stdout.strip()!r}")
                elif len(lines) != 1:
                    problems.append(f"send to {target!r} was refused without one clear line: {lines}")

            body = f"first line\r\nPRIVMSG {c} :injected by a body\rthird part\nJOIN #injected"
            with_breaks = await attempt(profile, problems, "send", side.account_id, bob, body)

            # The queue is not poisoned: ordinary messages go out at once, once, on the same connection.
            to_bob, to_carol = "an ordinary line for bob", "an ordinary line for carol"
            for to, text in ((bob, to_bob), (c, to_carol)):
                sent = await attempt(profile, problems, "send", side.account_id, to, text)
                if sent is not None and (sent.rc != 0 or not sent.stdout.startswith("Sent message ")):
                    problems.append(f"an ordinary send after the hostile ones failed: {sent}")

            def carol_has_hers() -> bool:
                return any(isinstance(e, ev.Message) and e.text == to_carol for e in carol.events)

            try:
                await wait_for(
                    lambda: to_bob in side.from_alice() and carol_has_hers(), "the ordinary lines", DELIVERY_TIMEOUT
                )
            except AssertionError:
                problems.append(
                    f"the ordinary lines sent after the hostile ones did not arrive within {DELIVERY_TIMEOUT:g} s "
                    f"(bob: {to_bob in side.from_alice()}, carol: {carol_has_hers()}): the queue is blocked"
                )
            await carol.sync()
            carol_got = [
                e.text
                for e in carol.events
                if isinstance(e, ev.Message) and not e.is_echo and carol.client.is_me(e.target)
            ]
            bob_got = side.from_alice()
            if carol_got != [to_carol]:
                problems.append(f"carol received {carol_got} (only {to_carol!r} was meant for her)")
            before = bob_got[: bob_got.index(to_bob)] if to_bob in bob_got else bob_got
            if with_breaks is None or with_breaks.rc == 0:
                if squeeze("".join(before)) != squeeze(body):
                    problems.append(f"bob received {before} for the body {body!r}")
            elif before:
                problems.append(f"a refused body still reached bob: {before}")
            if bob_got.count(to_bob) != 1:
                problems.append(f"bob received the ordinary line {bob_got.count(to_bob)} times")
            assert not problems, "\n".join(problems)
            still_connected(headless, side.account_id, mark)
            await assert_keeps_working(profile, side, "irc hostile cli")
            assert await headless.stop() == 0
        finally:
            await carol.close()


async def test_escape_sequences_from_a_peer_never_reach_the_terminal(
    profile: Profile, running_irc_server: IrcServer, irc_user_pool: IrcUserPool, test_certs: TestCerts
) -> None:
    async with irc_side(profile, running_irc_server, irc_user_pool, test_certs) as side:
        headless = await side.start(profile)
        mark = len(headless.lines)
        hostile = "\x1b[2J\x1b[H\x1b[31mred alert\x1b[0m \x1b]0;pwned title\x07 fake\rline\x08\x08 end"
        side.bob.write_raw(f"PRIVMSG {side.nick} :{hostile}\r\n".encode())
        side.bob.write_raw(f"PRIVMSG {side.channel} :{hostile}\r\n".encode())
        await side.bob.sync()
        await profile.wait_history(side.bob.address, lambda ms: any("red alert" in b for b in bodies_of(ms)))
        await profile.wait_history(side.channel, lambda ms: any("red alert" in b for b in bodies_of(ms)))

        outputs = {
            "history": await profile.run("history", "--with", side.bob.address),
            "history (room)": await profile.run("history", "--with", side.channel),
            "search": await profile.run("search", "alert"),
        }
        problems = []
        for name, result in outputs.items():
            if result.rc != 0:
                problems.append(f"{name} failed: {result}")
            elif "red alert" not in result.stdout:
                problems.append(f"{name} does not show the message at all:\n{result.stdout}")
            found = sorted({hex(ord(ch)) for ch in TERMINAL_CONTROL.findall(result.stdout + result.stderr)})
            if found:
                problems.append(f"{name} wrote raw control characters {found} to the terminal: {result.stdout!r}")
        assert not problems, "\n".join(problems)
        still_connected(headless, side.account_id, mark)
        await assert_keeps_working(profile, side, "escapes")
        assert await headless.stop() == 0


# ------------------------------------------------------------------------------------------- XMPP


async def test_forged_oversized_and_odd_xmpp_stanzas_forge_nothing_and_the_client_keeps_working(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    async with xmpp_side(profile, running_prosody) as side:
        headless = await side.start(profile)
        mark = len(headless.lines)
        alice, bob = side.alice, side.bob.address
        carol = f"carol-{secrets.token_hex(4)}@localhost"
        raw = [
            # bob claims to be a carbon copy of a message alice sent to carol
            f"<message to='{alice}' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            f"<message xmlns='jabber:client' from='{alice}/desk' to='{carol}' type='chat'>"
            "<body>forged carbon: alice never wrote this</body></message></forwarded></sent></message>",
            # bob claims to be alice's server archive, with a message from carol
            f"<message to='{alice}'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='forged-1'>"
            "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z'/>"
            f"<message xmlns='jabber:client' from='{carol}/x' to='{alice}' type='chat'>"
            "<body>forged archive: carol never wrote this</body></message></forwarded></result></message>",
            # odd but well-formed
            f"<message to='{alice}' type='chat'><body>two bodies one</body><body xml:lang='de'>zwei</body></message>",
            f"<message to='{alice}' type='chat'><body>   </body></message>",
            f"<message to='{alice}' type='chat'>{JUNK * 2000}<body>after junk</body></message>",
            f"<message to='{alice}' type='headline'><body>a headline body</body></message>",
            f"<message to='{alice}' type='error'><body>an error body</body><error type='cancel'/></message>",
        ]
        for stanza in raw:
            side.bob.send_raw(stanza)
        oversized = "big " + "x" * (1024 * 1024)
        await side.flood([oversized, "still talking after the hostile stanzas"])
        messages = await profile.wait_history(
            bob, lambda ms: "still talking after the hostile stanzas" in bodies_of(ms), timeout=DELIVERY_TIMEOUT
        )
        problems = []
        forged = [
            m
            for m in [*await search(profile, "forged"), *await profile.history(carol)]
            if m["direction"] == "out" or m["sender"] != bob
        ]
        problems += [f"a forged message was stored as genuine: {m}" for m in forged]
        big = [m for m in messages if str(m["body"]).startswith("big ")]
        if big and big[0]["body"] != oversized:
            problems.append(f"the 1 MiB message was stored cut to {len(big[0]['body'])} characters")
        assert not problems, "\n".join(problems)
        still_connected(headless, side.account_id, mark)
        await assert_keeps_working(profile, side, "xmpp hostile")
        assert await headless.stop() == 0


# ----------------------------------------------------------------------------------------- Matrix


async def test_malformed_and_oversized_matrix_events_inject_nothing_and_the_client_keeps_working(
    profile: Profile, running_synapse: SynapseServer
) -> None:
    async with matrix_side(profile, running_synapse) as side:
        headless = await side.start(profile)
        mark = len(headless.lines)
        hostile: list[dict[str, Any]] = [
            {"msgtype": "m.text", "body": 12345},
            {"msgtype": "m.text"},
            {"body": "no msgtype"},
            {"msgtype": "m.text", "body": ["a", "list"]},
            {"msgtype": "m.text", "body": "\x1b[2J\x1b[31mred alert\x1b[0m\x1b]0;pwned\x07 over\rwritten"},
            {"msgtype": "m.text", "body": "html", "format": "org.matrix.custom.html",
             "formatted_body": "<script>alert(1)</script><img src=x onerror=alert(2)>"},
            {"msgtype": "m.text", "body": "nested", "junk": {"a": [[[[[[[[[[{"b": "c" * 1000}]]]]]]]]]]}},
            {"msgtype": "m.text", "body": "big " + "y" * 60_000},
            {"msgtype": "m.text", "body": "a reply to nothing", "m.relates_to": {"m.in_reply_to": {"event_id": 7}}},
        ]  # fmt: skip
        for content in hostile:
            with contextlib.suppress(SynapseError):  # what Synapse itself refuses never becomes an event
                await side.send_raw(content)
        await side.send_raw({"body": 1}, event_type="m.room.custom_junk")
        await side.send("still talking after the hostile events")
        await profile.wait_history(
            side.conversation,
            lambda ms: "still talking after the hostile events" in bodies_of(ms),
            timeout=DELIVERY_TIMEOUT,
        )
        messages = await profile.history(side.conversation)
        problems = []
        big = [m for m in messages if str(m["body"]).startswith("big ")]
        if not big or len(big[0]["body"]) != 60_004:
            problems.append("the 60 kB message is missing or cut")
        text = await profile.run("history", "--with", side.conversation)
        found = sorted({hex(ord(ch)) for ch in TERMINAL_CONTROL.findall(text.stdout)})
        if found:
            problems.append(f"history wrote raw control characters {found} to the terminal")
        if any("<script>" in str(m["body"]) for m in messages):
            problems.append("the HTML of formatted_body became the stored text")
        assert not problems, "\n".join(problems)
        still_connected(headless, side.account_id, mark)
        await assert_keeps_working(profile, side, "matrix hostile")
        assert await headless.stop() == 0
