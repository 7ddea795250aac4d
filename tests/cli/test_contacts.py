"""``aggregator contacts`` and ``run --headless`` with a real Prosody: bob (a plain slixmpp client that
accepts subscriptions) asks to add alice, the request shows, alice accepts, presence and messages flow
both ways; alice adds carol by address and writes to her; blocking stops bob's messages. And
``history --person`` across accounts (fake accounts: no server needed for the archive)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.cli.conftest import CountingServer, Profile, Users, wait_until
from tests.cli.test_xmpp_e2e import add_account, new_account, online, start_headless, with_bodies
from tests.contract.xmpp_harness import server_round_trip
from tests.servers.prosody import ProsodyServer


async def persons(profile: Profile) -> list[dict[str, Any]]:
    result = (await profile.run("persons", "--json")).ok()
    listing = json.loads(result.stdout)
    return list(listing) if isinstance(listing, list) else list(listing["persons"])


def contact_presence(listing: list[dict[str, Any]], handle: str) -> str | None:
    return next((c["presence"] for p in listing for c in p["contacts"] if c["handle"] == handle), None)


async def test_a_request_shows_and_accepting_it_lets_presence_and_messages_flow_both_ways(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    assert "No pending requests." in (await profile.run("contacts", "requests")).ok().stdout
    async with online(running_prosody, bob) as peer:
        peer.send_raw(
            f"<presence to='{alice.address}' type='subscribe'><status>we met at the fair</status>"
            "<nick xmlns='http://jabber.org/protocol/nick'>Bob Builder</nick></presence>"
        )
        await headless.wait_line(
            rf"{re.escape(alice.account_id)}: request (\d+): Bob Builder \({re.escape(bob.address)}\) "
            r'asks to add you as a contact: "we met at the fair"'
        )
        (request,) = json.loads((await profile.run("contacts", "requests", "--json")).ok().stdout)
        assert (request["address"], request["name"], request["kind"]) == (bob.address, "Bob Builder", "contact")
        listed = (await profile.run("contacts", "requests")).ok().stdout
        assert f"{alice.account_id}: Bob Builder ({bob.address}) asks to add you" in listed

        accepted = (await profile.run("contacts", "accept", str(request["id"]))).ok().stdout
        assert accepted.startswith(f"Accepted request {request['id']}: Bob Builder"), accepted
        # Both ways: bob sees alice (and alice asked back, which bob's client accepts), alice sees bob.
        await wait_until(lambda: peer.client.client_roster[alice.address]["subscription"] == "both", "mutual")
        peer.client.send_presence(pshow="dnd", pstatus="in a meeting")
        await server_round_trip(peer.client)
        deadline = time.monotonic() + 20
        while (shown := contact_presence(await persons(profile), bob.address)) != "busy":
            assert time.monotonic() < deadline, f"bob's presence is still {shown}"
        await peer.send(alice.address, "thanks for accepting")
        await profile.wait_history(bob.address, with_bodies("thanks for accepting"), timeout=20)
        (await profile.run("send", alice.address, bob.address, "welcome, Bob")).ok()
        assert await peer.next_message(timeout=15) == (alice.address, "welcome, Bob")
    assert "No pending requests." in (await profile.run("contacts", "requests")).ok().stdout
    assert await headless.stop() == 0


async def test_a_request_that_came_while_nothing_ran_shows_at_the_next_start(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    async with online(running_prosody, bob) as peer:
        peer.client.send_presence_subscription(pto=alice.address)
        await headless.wait_line(rf"request (\d+): {re.escape(bob.address)} asks to add you")
    assert await headless.stop() == 0
    headless = await start_headless(profile, alice)
    await headless.wait_line(rf"request (\d+): {re.escape(bob.address)} asks to add you")
    (request,) = json.loads((await profile.run("contacts", "requests", "--json")).ok().stdout)
    declined = (await profile.run("contacts", "decline", str(request["id"]))).ok().stdout
    assert declined.startswith(f"Declined request {request['id']}"), declined
    assert await headless.stop() == 0


async def test_adding_by_address_then_writing_and_blocking_stops_their_messages(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, carol = await new_account(running_prosody, "alice"), await new_account(running_prosody, "carol")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    async with online(running_prosody, carol) as peer:
        added = (await profile.run("contacts", "add", alice.address, carol.address, "--name", "Carol C")).ok()
        assert added.stdout.startswith(f"Added {carol.address} on {alice.account_id}"), str(added)
        await wait_until(lambda: peer.client.client_roster[alice.address]["subscription"] == "both", "mutual")
        names = {p["name"] for p in await persons(profile)}
        assert "Carol C" in names
        renamed = (await profile.run("contacts", "rename", alice.address, carol.address, "Caz")).ok().stdout
        assert renamed.strip() == f"Renamed {carol.address} on {alice.account_id}: now shown as Caz.", renamed
        (await profile.run("send", alice.address, carol.address, "hello Carol")).ok()
        assert await peer.next_message(timeout=15) == (alice.address, "hello Carol")

        blocked = (await profile.run("contacts", "block", alice.address, carol.address)).ok().stdout
        assert blocked.startswith(f"Blocked {carol.address}"), blocked
        await headless.wait_line(rf"{re.escape(alice.account_id)}: blocked {re.escape(carol.address)}")
        listing = json.loads((await profile.run("contacts", "blocked", "--json")).ok().stdout)
        assert listing == [{"account": alice.account_id, "address": carol.address}]
        errors: list[object] = []
        peer.client.register_handler(
            Callback("errors", MatchXPath("{jabber:client}message/{jabber:client}error"), lambda s: errors.append(s))
        )
        await peer.send(alice.address, "can you hear me?")
        (await profile.run("contacts", "unblock", alice.address, carol.address)).ok()
        await peer.send(alice.address, "and now?")
        history = await profile.wait_history(carol.address, with_bodies("and now?"), timeout=20)
        assert "can you hear me?" not in [m["body"] for m in history]
        assert errors  # the server told carol her message was not delivered

        removed = (await profile.run("contacts", "remove", alice.address, carol.address)).ok().stdout
        assert removed.startswith(f"Removed {carol.address}"), removed
        await wait_until(lambda: peer.client.client_roster[alice.address]["subscription"] == "none", "removed")
    assert await headless.stop() == 0


async def test_a_room_invitation_shows_and_accepting_joins_the_room(
    profile: Profile, running_prosody: ProsodyServer
) -> None:
    alice, bob = await new_account(running_prosody, "alice"), await new_account(running_prosody, "bob")
    await add_account(profile, running_prosody, alice)
    headless = await start_headless(profile, alice)
    room = f"plans-{alice.address.partition('@')[0]}@{running_prosody.muc_domain}"
    async with online(running_prosody, bob) as peer:
        peer.send_raw(
            f"<message to='{alice.address}'><x xmlns='jabber:x:conference' jid='{room}' reason='the plans'/></message>"
        )
        await headless.wait_line(rf"request (\d+): {re.escape(bob.address)} invites you to the room {re.escape(room)}")
    (request,) = json.loads((await profile.run("contacts", "requests", "--json")).ok().stdout)
    assert (request["kind"], request["room"], request["message"]) == ("room-invite", room, "the plans")
    accepted = (await profile.run("contacts", "accept", str(request["id"]))).ok().stdout
    assert accepted.strip().endswith(f"; joined {room}"), accepted
    rooms = json.loads((await profile.run("rooms", "--json")).ok().stdout)
    assert [(r["room"], r["joined"]) for r in rooms] == [(room, True)]
    assert await headless.stop() == 0


async def test_contacts_needs_the_running_instance(profile: Profile, running_prosody: ProsodyServer) -> None:
    alice = await new_account(running_prosody, "alice")
    await add_account(profile, running_prosody, alice)
    result = await profile.run("contacts", "add", alice.address, "bob@localhost")
    assert result.rc == 1 and "needs the running instance" in result.stderr, str(result)


async def test_history_of_a_person_across_accounts(profile: Profile, server: CountingServer, users: Users) -> None:
    alice, bob, carol = users.alice, users.bob, users.carol
    await profile.add(alice, server)
    await profile.add(carol, server, "--label", "Second")
    headless = await profile.headless(connected=alice)
    await headless.wait_state(carol, "connected")
    await server.deliver(bob.address, alice.address, "to alice's account")
    await profile.wait_history(bob, lambda m: len(m) >= 1)  # two accounts: one after the other
    await server.deliver(bob.address, carol.address, "to the second account")
    await profile.wait_history(bob, lambda m: len(m) >= 2)
    ids = sorted(p["id"] for p in await persons(profile) if any(c["handle"] == bob.address for c in p["contacts"]))
    assert len(ids) == 2
    (await profile.run("persons", "merge", str(ids[0]), str(ids[1]))).ok()
    (await profile.run("persons", "rename", str(ids[0]), "Bobby Tables")).ok()
    assert await headless.stop() == 0

    rows = [
        json.loads(line)
        for line in (await profile.run("history", "--person", "bobby tables", "--json")).ok().stdout.splitlines()
    ]
    assert [(r["body"], r["account"], r["account_label"]) for r in rows] == [
        ("to alice's account", alice.account_id, alice.address),
        ("to the second account", carol.account_id, "Second"),
    ]
    text = (await profile.run("history", "--person", bob.address)).ok().stdout.splitlines()
    assert (
        len(text) == 2 and text[0].endswith(f"to alice's account  [{alice.address}]") and text[1].endswith("[Second]")
    )
    unknown = await profile.run("history", "--person", "Nobody")
    assert unknown.rc == 2 and "no person or contact 'Nobody'" in unknown.stderr, str(unknown)
