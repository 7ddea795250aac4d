"""XMPP catch-up (XEP-0313) through the real ``aggregator run --headless`` and the session's Prosody
(issue 13, defects 1 and 2): the catch-up pages to the server's ``complete`` (Prosody sends at most 50
results a page), and a SIGKILL between the adapter's emit and the archive's commit loses nothing,
because the catch-up position is stored with the message it covers."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import Any

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.cli.conftest import Message, Profile
from tests.cli.test_xmpp_e2e import Account, add_account, new_account, online, start_headless, state
from tests.contract.xmpp_harness import close_client, login_client, server_round_trip, wait_until
from tests.servers.prosody import ProsodyServer

STORED = r"stored message (\d+) in "
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"


async def server_archive(prosody: ProsodyServer, account: Account) -> list[tuple[str, str]]:
    """(archive id, body) of every message in the account's MAM archive, paged to ``complete``."""
    client = await login_client(prosody, account.address, account.password, resource="reader", presence=False)
    found: list[tuple[str, str]] = []

    def collect(stanza: Any) -> None:
        result = stanza.xml.find(f"{{{NS_MAM}}}result")
        body = result.find(".//{jabber:client}body") if result is not None else None
        if result is not None and body is not None:
            found.append((result.get("id", ""), body.text or ""))

    client.register_handler(Callback("mam", MatchXPath(f"{{jabber:client}}message/{{{NS_MAM}}}result"), collect))
    after = ""
    try:
        while True:
            iq = client.make_iq_set()
            query = ET.SubElement(iq.xml, f"{{{NS_MAM}}}query", queryid=secrets.token_hex(4))
            rsm = ET.SubElement(query, f"{{{NS_RSM}}}set")
            ET.SubElement(rsm, f"{{{NS_RSM}}}max").text = "50"
            if after:
                ET.SubElement(rsm, f"{{{NS_RSM}}}after").text = after
            answer = await iq.send(timeout=15)
            fin = answer.xml.find(f"{{{NS_MAM}}}fin")
            assert fin is not None
            last = fin.findtext(f"{{{NS_RSM}}}set/{{{NS_RSM}}}last")
            if fin.get("complete") in ("true", "1") or not last:
                break
            after = last
    finally:
        await close_client(client)
    return found


def bodies(messages: list[Message]) -> list[str]:
    return [m["body"] for m in messages]


def has_at_least(n: int, prefix: str) -> Any:
    return lambda messages: sum(1 for m in messages if m["body"].startswith(prefix)) >= n


def flood(client: Any, to: str, texts: list[str]) -> None:
    for text in texts:
        client.send_message(mto=to, mbody=text, mtype="chat")


async def test_a_catch_up_while_another_device_was_online_fetches_every_page_in_order_once(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    texts = [f"while away {n:03d}" for n in range(120)]
    async with online(running_prosody, bob) as peer:
        await peer.send(alice.address, "before")
        await profile.wait_history(bob.address, lambda ms: bodies(ms) == ["before"], timeout=20)
        assert await headless.stop() == 0

        # Alice's phone is online (so nothing waits in offline storage): only the archive has them.
        async with online(running_prosody, alice, resource="phone") as phone:
            flood(peer.client, alice.address, texts)
            await server_round_trip(peer.client)
            await wait_until(
                lambda: sum(1 for s in phone.stanzas if str(s["body"]).startswith("while away")) == len(texts),
                timeout=20,
                what="the 120 messages on the phone",
            )
            headless = await start_headless(profile, alice)
            await profile.wait_history(bob.address, has_at_least(len(texts), "while away"), timeout=60)
            # A live message now: it is handled after the whole catch-up, so nothing is still on its way.
            await peer.send(alice.address, "live after the catch-up")
            messages = await profile.wait_history(
                bob.address, lambda ms: "live after the catch-up" in bodies(ms), timeout=20
            )
        assert bodies(messages) == ["before", *texts, "live after the catch-up"]
        assert len({m["server_id"] for m in messages}) == len(messages)
        assert await headless.stop() == 0

        # The live message did not move the position past anything: a later start adds only what is new.
        await peer.send(alice.address, "next day")
        headless = await start_headless(profile, alice)
        messages = await profile.wait_history(bob.address, lambda ms: "next day" in bodies(ms), timeout=30)
        await peer.send(alice.address, "live on the next day")
        messages = await profile.wait_history(bob.address, lambda ms: "live on the next day" in bodies(ms), timeout=20)
        assert bodies(messages) == ["before", *texts, "live after the catch-up", "next day", "live on the next day"]
        assert await headless.stop() == 0


async def test_a_sigkill_mid_flood_loses_nothing_the_server_holds(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    total, kill_after = 1500, 300
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await profile.headless("--print-messages")
    await headless.wait_line(state(alice, "connected"), timeout=30)
    texts = [f"flood {n:04d}" for n in range(total)]
    async with online(running_prosody, bob) as peer:
        flood(peer.client, alice.address, texts)
        # Killed while messages are still arriving: some received and emitted, not yet committed.
        await headless.wait_line(STORED, start=kill_after, timeout=60)
        await headless.kill()
        stored_before = len(headless.matching(STORED))
        await server_round_trip(peer.client, timeout=60)
        held = [body for _, body in await server_archive(running_prosody, alice)]
        assert held == texts, "the server holds every message, in order"
        assert stored_before < total, f"not killed mid-flood: {stored_before} stored"

        headless = await start_headless(profile, alice)
        await profile.wait_history(bob.address, has_at_least(total, "flood "), timeout=120)
        await peer.send(alice.address, "after the crash")
        messages = await profile.wait_history(bob.address, lambda ms: "after the crash" in bodies(ms), timeout=30)
    # Every message the server holds, exactly once, and in bob's order: those fetched after the crash
    # (archive times in whole seconds, offline copies first on the wire) sort after those stored live.
    assert sorted(bodies(messages)) == sorted([*texts, "after the crash"]), "every message exactly once"
    assert bodies(messages) == [*texts, "after the crash"], "in bob's order"
    assert len({m["server_id"] for m in messages}) == len(messages)
    assert await headless.stop() == 0
