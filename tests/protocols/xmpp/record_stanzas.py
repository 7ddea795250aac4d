"""Records the stanzas of ``tests/data/recorded/xmpp/`` from the suite's real Prosody.

Not collected by the suite (the name does not start with ``test_``); run it explicitly to refresh the
recordings after a server upgrade or to add one:

    SKIP_LINT=1 scripts/test tests/protocols/xmpp/record_stanzas.py -q

It drives the XMPP adapter and plain slixmpp peers through the scenarios the mapping tests need and
writes every stanza exactly as the adapter's feature modules received it (``lib.xml_of`` is wrapped,
so what is stored is what ``mapping`` reads). Each file holds one stanza; ``accounts.json`` names the
addresses of the run (own account, peer, the one asking for a subscription, the room).
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slixmpp.xmlstream.tostring import tostring

from aggregator.api import (
    AuthenticationError,
    ConversationKey,
    Credentials,
    MessageReceived,
    MessageState,
    MessageStateChanged,
    OutgoingMessage,
    PresenceChanged,
    PresenceKind,
    RoomJoined,
    RoomMembers,
    RoomTopic,
    RosterItemChanged,
    SubscriptionRequested,
    TypingChanged,
)
from protocols.xmpp import lib, mapping
from protocols.xmpp.adapter import XmppAdapter
from tests.contract.sink import EventCollector
from tests.contract.xmpp_harness import XmppHarness, close_client, login_client, wait_until
from tests.protocols.xmpp.conftest import NewClient
from tests.protocols.xmpp.test_archive_rooms import peer_join, room_name

OUT = Path(__file__).resolve().parents[2] / "data" / "recorded" / "xmpp"

Predicate = Callable[[ET.Element], bool]


def has(namespace: str, name: str) -> Predicate:
    return lambda element: element.find(f"{{{namespace}}}{name}") is not None


def body(text: str) -> Predicate:
    return lambda element: element.findtext(f"{{{mapping.NS_CLIENT}}}body") == text


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, ET.Element]] = []
        self.written: list[str] = []

    def wrap(self, original: Callable[[object], ET.Element]) -> Callable[[object], ET.Element]:
        def recording(data: object) -> ET.Element:
            element = original(data)
            text = str(tostring(element, top_level=True))  # with its namespace: the file stands alone
            self.seen.append((text, element))
            return element

        return recording

    def save(self, name: str, *predicates: Predicate) -> None:
        for text, element in reversed(self.seen):
            if all(predicate(element) for predicate in predicates):
                OUT.mkdir(parents=True, exist_ok=True)
                (OUT / f"{name}.xml").write_text(text + "\n", encoding="utf-8")
                self.written.append(name)
                return
        raise AssertionError(f"no stanza recorded for {name}")


def tag(local: str) -> Predicate:
    return lambda element: element.tag == f"{{{mapping.NS_CLIENT}}}{local}"


async def test_record_stanzas(new_client: NewClient, harness: XmppHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(lib, "xml_of", recorder.wrap(lib.xml_of))
    alice = await new_client(connect=False)
    bob = await harness.new_peer()
    await harness.make_contacts(alice.jid, bob.address)
    account = alice.adapter._account_id
    with_bob = ConversationKey.direct(account, bob.handle)

    # Offline: a message waits in offline storage and in the archive.
    bob.send_raw(
        f"<message to='{alice.jid}' type='chat' id='off-1'><body>while you were away</body>"
        f"<origin-id xmlns='urn:xmpp:sid:0' id='off-1'/></message>"
    )
    await bob.send(bob.address, "flush")  # a round trip: the server stored it
    await alice.connect()
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "while you were away")
    recorder.save("roster-result", tag("iq"), has("jabber:iq:roster", "query"))
    recorder.save("mam-result", has(mapping.NS_MAM, "result"))
    await alice.sink.wait_for(
        MessageReceived, lambda e: e.body == "while you were away" and e.position is None, timeout=10
    )
    recorder.save("offline-delayed", body("while you were away"), has(mapping.NS_DELAY, "delay"))

    # Presence of a contact, with show, status and priority; later unavailable.
    bob.client.send_presence(pshow="away", pstatus="at lunch", ppriority=5)
    await alice.sink.wait_for(PresenceChanged, lambda e: e.presence.kind is PresenceKind.AWAY)
    recorder.save("presence-away", tag("presence"), has(mapping.NS_CLIENT, "show"))

    # Chat messages: plain, /me, a correction of the first, typing.
    bob.send_raw(
        f"<message to='{alice.jid}' type='chat' id='m-1'><body>hello alice</body>"
        f"<origin-id xmlns='urn:xmpp:sid:0' id='m-1'/><active xmlns='{mapping.NS_CHATSTATES}'/></message>"
    )
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "hello alice")
    recorder.save("chat-message", body("hello alice"))
    bob.send_raw(f"<message to='{alice.jid}' type='chat' id='m-2'><body>/me waves</body></message>")
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "waves")
    recorder.save("chat-action", body("/me waves"))
    bob.send_raw(
        f"<message to='{alice.jid}' type='chat' id='m-3'><body>hello, alice</body>"
        f"<replace xmlns='{mapping.NS_CORRECT}' id='m-1'/></message>"
    )
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "hello, alice")
    recorder.save("correction", body("hello, alice"))
    bob.send_raw(f"<message to='{alice.jid}' type='chat'><composing xmlns='{mapping.NS_CHATSTATES}'/></message>")
    await alice.sink.wait_for(TypingChanged, lambda e: e.typing)
    recorder.save("chat-state-composing", has(mapping.NS_CHATSTATES, "composing"))

    # A delivery receipt for a message of ours; a bounce of one to a domain that does not exist.
    await alice.adapter.send_message(with_bob, OutgoingMessage("please confirm", "key-r1"))
    bob.send_raw(f"<message to='{alice.jid}' id='r-1'><received xmlns='urn:xmpp:receipts' id='key-r1'/></message>")
    await alice.sink.wait_for(MessageStateChanged, lambda e: e.state is MessageState.DELIVERED)
    recorder.save("receipt", has("urn:xmpp:receipts", "received"))
    nowhere = ConversationKey.direct(account, "someone@elsewhere.invalid")
    await alice.adapter.send_message(nowhere, OutgoingMessage("to nowhere", "key-b1"))
    await alice.sink.wait_for(MessageStateChanged, lambda e: e.idempotency_key == "key-b1")
    recorder.save("message-error", tag("message"), lambda e: e.get("type") == "error")

    # A subscription request with a text; a roster push after adding the asker.
    carol = await harness.new_peer()
    carol.send_raw(f"<presence to='{alice.jid}' type='subscribe'><status>hi, it is carol</status></presence>")
    await alice.sink.wait_for(SubscriptionRequested, lambda e: e.handle == carol.handle)
    recorder.save("subscribe", lambda e: e.get("type") == "subscribe")
    await alice.adapter.add_contact(carol.address, "Carol", ("Friends",))
    await alice.sink.wait_for(RosterItemChanged, lambda e: e.item.handle == carol.handle)
    recorder.save("roster-push", tag("iq"), lambda e: e.get("type") == "set")

    # Carbons: a message sent from, and one received on, another session of the same account.
    other: Any = await login_client(harness.server, alice.jid, alice.password, resource="phone")
    try:
        other.plugin.enable("xep_0359")
        sent = other.make_message(mto=bob.address, mbody="from my phone", mtype="chat")
        sent["id"] = sent["origin_id"]["id"] = "phone-1"
        sent.send()
        await alice.sink.wait_for(MessageReceived, lambda e: e.body == "from my phone")
        recorder.save("carbon-sent", has(mapping.NS_CARBONS, "sent"))
        bob.client.send_message(mto=f"{alice.jid}/phone", mbody="to your phone", mtype="chat")
        await alice.sink.wait_for(MessageReceived, lambda e: e.body == "to your phone")
        recorder.save("carbon-received", has(mapping.NS_CARBONS, "received"))
    finally:
        await close_client(other)

    # A group chat: created by us, another occupant, a message, our echo, a subject, a departure.
    room = room_name(harness)
    key = await alice.adapter.join_room(room, "Alice")
    await alice.sink.wait_for(RoomJoined)
    recorder.save("muc-own-presence-created", tag("presence"), has(mapping.NS_MUC_USER, "x"))
    recorder.save("muc-subject-empty", tag("message"), has(mapping.NS_CLIENT, "subject"))
    await peer_join(bob, room, "Bob")
    await alice.sink.wait_for(RoomMembers, lambda e: "Bob" in e.members)
    recorder.save("muc-occupant-presence", tag("presence"), lambda e: (e.get("from") or "") == f"{room}/Bob")
    bob.send_raw(
        f"<message to='{room}' type='groupchat' id='g-1'><body>hi all</body>"
        f"<origin-id xmlns='urn:xmpp:sid:0' id='g-1'/></message>"
    )
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "hi all")
    recorder.save("muc-message", body("hi all"))
    await alice.adapter.send_message(key, OutgoingMessage("hello room", "key-g1"))
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "hello room")
    recorder.save("muc-own-echo", body("hello room"), lambda e: (e.get("from") or "") == f"{room}/Alice")
    await alice.adapter.set_topic(key, "plans for friday")  # only a moderator may: the room's owner
    await alice.sink.wait_for(RoomTopic, lambda e: e.topic == "plans for friday")
    recorder.save("muc-subject", lambda e: e.findtext(f"{{{mapping.NS_CLIENT}}}subject") == "plans for friday")
    seen = len(alice.sink.events)
    bob.send_raw(f"<presence to='{room}/Bob' type='unavailable'/>")
    await wait_until(
        lambda: any(isinstance(e, RoomMembers) and "Bob" not in e.members for e in alice.sink.events[seen:]),
        what="Bob's departure",
    )
    recorder.save(
        "muc-occupant-left",
        tag("presence"),
        lambda e: e.get("type") == "unavailable" and (e.get("from") or "") == f"{room}/Bob",
    )
    await peer_join(bob, room, "Bob")  # back: the room must not empty (it would be destroyed)

    # The room's history on a fresh join (no archive position: <history maxstanzas=50/>).
    fresh = XmppAdapter(alice.settings, EventCollector())
    try:
        await fresh.connect(Credentials(alice.password))
        await fresh.join_room(room, f"Alice-{secrets.token_hex(2)}")
        recorder.save("muc-history", body("hi all"), has(mapping.NS_DELAY, "delay"))
    finally:
        await fresh.disconnect()

    # A room archive (muc_mam) result, when rejoining with a known position.
    await alice.adapter.leave_room(key)
    bob.send_raw(f"<message to='{room}' type='groupchat'><body>while alice was out</body></message>")
    await bob.send(bob.address, "flush")
    await alice.adapter.join_room(room, "Alice")
    await alice.sink.wait_for(MessageReceived, lambda e: e.body == "while alice was out")
    recorder.save("muc-mam-result", has(mapping.NS_MAM, "result"), lambda e: (e.get("from") or "") == room)

    # A refused login (SASL failure).
    wrong = XmppAdapter(alice.settings, EventCollector())
    with pytest.raises(AuthenticationError):
        await wrong.connect(Credentials("not-the-password"))
    recorder.save("sasl-failure", lambda e: e.tag.endswith("}failure"))

    # The peer goes offline.
    await bob.close()
    await alice.sink.wait_for(PresenceChanged, lambda e: e.presence.kind is PresenceKind.OFFLINE)
    recorder.save(
        "presence-unavailable",
        tag("presence"),
        lambda e: e.get("type") == "unavailable" and (e.get("from") or "").startswith(f"{bob.address}/"),
    )
    accounts = {"own": alice.jid, "peer": bob.handle, "asker": carol.handle, "room": room}
    (OUT / "accounts.json").write_text(json.dumps(accounts, indent=2) + "\n", encoding="utf-8")
    assert recorder.written
