"""The stanza mapping (``protocols/xmpp/mapping.py``) on stanzas recorded from the suite's Prosody
(``tests/data/recorded/xmpp/``, written by ``record_stanzas.py``), plus a few stanzas shaped like the
examples of the XEPs where Prosody does not produce them on demand (a kick, a nick change, a spoofed id).
No server needed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.api import AccountId, ConversationKey, MessageKind, PresenceKind, RosterItem
from protocols.xmpp import mapping
from protocols.xmpp.addresses import parse_jid
from protocols.xmpp.corrections import Corrections
from protocols.xmpp.mapping import StanzaError
from protocols.xmpp.muc import removal_reason

RECORDED = Path(__file__).resolve().parents[2] / "data" / "recorded" / "xmpp"
NAMES = json.loads((RECORDED / "accounts.json").read_text(encoding="utf-8"))
OWN, PEER, ASKER, ROOM = NAMES["own"], NAMES["peer"], NAMES["asker"], NAMES["room"]
ACCOUNT = AccountId(f"xmpp:{OWN}")
CTX = mapping.Context(ACCOUNT, parse_jid(OWN), parse_jid(OWN).domain)
SID = f"{{{mapping.NS_SID}}}stanza-id"


def recorded(name: str) -> ET.Element:
    return ET.fromstring((RECORDED / f"{name}.xml").read_text(encoding="utf-8"))


def stanza_id_by(element: ET.Element, by: str) -> str:
    """The stanza-id ``by`` assigned, read straight from the XML (what the mapping must pick)."""
    found = [e.get("id") for e in element.iter(SID) if e.get("by") == by]
    assert len(found) == 1 and found[0]
    return found[0]


def to_peer() -> ConversationKey:
    return ConversationKey.direct(ACCOUNT, PEER)


# ------------------------------------------------------------------------------ one-to-one chat


def test_a_chat_message_is_keyed_by_our_archive_stanza_id_not_its_id() -> None:
    stanza = recorded("chat-message")
    problems: list[str] = []
    event = mapping.message_received(stanza, CTX, problems)
    assert event is not None and problems == []
    assert (event.conversation, event.sender, event.body) == (to_peer(), PEER, "hello alice")
    assert event.server_id == stanza_id_by(stanza, OWN) != "m-1"
    assert event.kind is MessageKind.CHAT
    assert not event.is_backfill and not event.is_own_echo and event.idempotency_key is None


def test_a_stanza_id_assigned_by_someone_else_is_not_trusted() -> None:
    stanza = recorded("chat-message")
    for element in stanza.iter(SID):
        element.set("by", PEER)  # the sender could have put it there itself
    event = mapping.message_received(stanza, CTX, [])
    assert event is not None and event.server_id == "m-1"  # the message's own id, not the spoofable one


def test_me_is_an_action_without_the_prefix() -> None:
    event = mapping.message_received(recorded("chat-action"), CTX, [])
    assert event is not None and (event.kind, event.body) == (MessageKind.ACTION, "waves")


def test_a_correction_names_the_id_it_replaces_and_is_resolved_to_the_stored_server_id() -> None:
    original, correction = recorded("chat-message"), recorded("correction")
    first = mapping.message_received(original, CTX, [])
    fixed = mapping.message_received(correction, CTX, [])
    assert first is not None and fixed is not None
    assert fixed.replaces_server_id == "m-1"  # XEP-0308: the replaced message's id
    corrections = Corrections()
    corrections.resolve(first, (mapping.message_id(original), mapping.origin_id(original)))
    resolved = corrections.resolve(fixed, (mapping.message_id(correction), mapping.origin_id(correction)))
    assert resolved.replaces_server_id == first.server_id


def test_a_correction_of_an_unknown_message_passes_through() -> None:
    fixed = mapping.message_received(recorded("correction"), CTX, [])
    assert fixed is not None
    assert Corrections().resolve(fixed, ()).replaces_server_id == "m-1"


def test_a_chat_state_is_typing_and_no_message() -> None:
    stanza = recorded("chat-state-composing")
    assert mapping.chat_state_of(stanza) == "composing" and "composing" in mapping.TYPING_STATES
    assert mapping.message_received(stanza, CTX, []) is None


def test_a_receipt_names_the_message_it_confirms() -> None:
    assert mapping.receipt_of(recorded("receipt")) == "key-r1"
    assert mapping.message_received(recorded("receipt"), CTX, []) is None


def test_a_bounce_reads_its_condition_and_text() -> None:
    stanza = recorded("message-error")
    assert mapping.message_id(stanza) == "key-b1"
    assert mapping.error_of(stanza) == "not-allowed: Communication with remote domains is not enabled"


# ------------------------------------------------------------------------- offline copies, MAM


def test_the_offline_copy_is_backfill_at_its_delay_time_with_the_archive_id() -> None:
    offline, archived = recorded("offline-delayed"), recorded("mam-result")
    event = mapping.message_received(offline, CTX, [])
    assert event is not None and event.is_backfill
    stamp = offline.find(f"{{{mapping.NS_DELAY}}}delay")
    assert stamp is not None and event.timestamp == datetime.fromisoformat(stamp.get("stamp", "")).astimezone(UTC)
    result = mapping.mam_result(archived)
    assert result is not None
    # One message, two copies, one server id: the core keeps one row.
    assert event.server_id == result.archived.result_id


def test_an_archive_result_is_backfill_with_its_result_id_and_archive_time() -> None:
    result = mapping.mam_result(recorded("mam-result"))
    assert result is not None and result.query_id and result.archived.stamp is not None
    event = mapping.message_received(result.message, CTX, [], archived=result.archived)
    assert event is not None
    assert (event.body, event.sender, event.conversation) == ("while you were away", PEER, to_peer())
    assert event.server_id == result.archived.result_id and event.is_backfill
    assert event.timestamp == result.archived.stamp


def test_an_archive_result_without_a_forwarded_message_is_refused() -> None:
    stanza = recorded("mam-result")
    result = stanza.find(f"{{{mapping.NS_MAM}}}result")
    assert result is not None
    result.remove(result[0])
    with pytest.raises(StanzaError):
        mapping.mam_result(stanza)


# ------------------------------------------------------------------------------------- carbons


def test_a_sent_carbon_is_our_own_echo_to_the_peer_with_its_origin_id() -> None:
    found = mapping.carbon_of(recorded("carbon-sent"))
    assert found is not None
    direction, inner = found
    event = mapping.message_received(inner, CTX, [], own_echo=direction == "sent")
    assert direction == "sent" and event is not None
    assert (event.conversation, event.sender, event.is_own_echo) == (to_peer(), OWN, True)
    assert event.idempotency_key == "phone-1" and event.server_id == stanza_id_by(inner, OWN)


def test_a_received_carbon_is_the_peers_message() -> None:
    found = mapping.carbon_of(recorded("carbon-received"))
    assert found is not None and found[0] == "received"
    event = mapping.message_received(found[1], CTX, [])
    assert event is not None and (event.sender, event.body, event.is_own_echo) == (PEER, "to your phone", False)


# ------------------------------------------------------------------------ presence and roster


def test_presence_with_show_status_and_priority() -> None:
    stanza = recorded("presence-away")
    presence = mapping.presence_of(stanza)
    assert presence is not None and (presence.kind, presence.status) == (PresenceKind.AWAY, "at lunch")
    assert mapping.priority_of(stanza) == 5


def test_unavailable_presence_is_offline() -> None:
    presence = mapping.presence_of(recorded("presence-unavailable"))
    assert presence is not None and presence.kind is PresenceKind.OFFLINE


def test_a_subscription_request_is_no_presence_and_carries_its_text() -> None:
    stanza = recorded("subscribe")
    assert mapping.presence_of(stanza) is None
    assert mapping.sender_of(stanza).bare == ASKER
    assert mapping.subscription_message(stanza) == "hi, it is carol"


def test_the_roster_at_login_and_a_push() -> None:
    items, removed, problems = mapping.roster_items(recorded("roster-result"))
    assert items == (RosterItem(handle=PEER, name=None, groups=(), subscription="both"),)
    assert removed == () and problems == []
    items, removed, problems = mapping.roster_items(recorded("roster-push"))
    assert items == (RosterItem(handle=ASKER, name="Carol", groups=("Friends",), subscription="none"),)


def test_a_roster_push_removing_an_item() -> None:
    push = recorded("roster-push")
    for item in push.iter("{jabber:iq:roster}item"):
        item.set("subscription", "remove")  # RFC 6121 2.5: a removal is a push with subscription='remove'
    items, removed, _ = mapping.roster_items(push)
    assert items == () and removed == (ASKER,)


def test_a_refused_login_names_its_condition() -> None:
    assert mapping.failure_condition(recorded("sasl-failure")) == "not-authorized"


# ----------------------------------------------------------------------------------- group chat


def test_our_presence_in_a_room_we_created() -> None:
    occupant = mapping.occupant_of(recorded("muc-own-presence-created"))
    assert occupant is not None
    assert (occupant.nick, occupant.real_jid, occupant.available) == ("Alice", OWN, True)
    assert {"110", "201"} <= occupant.codes  # self-presence, new room (XEP-0045 7.2.2 / 10.1.1)


def test_another_occupant_arrives_and_leaves() -> None:
    arrived = mapping.occupant_of(recorded("muc-occupant-presence"))
    left = mapping.occupant_of(recorded("muc-occupant-left"))
    assert arrived is not None and (arrived.nick, arrived.real_jid, arrived.available) == ("Bob", PEER, True)
    assert left is not None and (left.nick, left.available) == ("Bob", False)


def test_a_room_message_is_keyed_by_the_rooms_stanza_id_and_names_the_occupant() -> None:
    stanza = recorded("muc-message")
    event = mapping.room_message(stanza, CTX, [], room=ROOM, own_nick="Alice", real_jid=PEER)
    assert event is not None
    assert event.conversation == ConversationKey.room(ACCOUNT, ROOM)
    assert (event.sender, event.sender_name, event.body) == (PEER, "Bob", "hi all")
    assert event.server_id == stanza_id_by(stanza, ROOM)
    assert not event.is_own_echo and not event.is_backfill


def test_without_a_real_jid_the_sender_is_the_nick() -> None:
    event = mapping.room_message(recorded("muc-message"), CTX, [], room=ROOM, own_nick="Alice", real_jid=None)
    assert event is not None and event.sender == "Bob"


def test_our_message_reflected_by_the_room_is_an_own_echo() -> None:
    event = mapping.room_message(recorded("muc-own-echo"), CTX, [], room=ROOM, own_nick="Alice", real_jid=OWN)
    assert event is not None and event.is_own_echo
    assert (event.sender, event.idempotency_key) == (OWN, "key-g1")


def test_the_join_history_has_the_same_server_id_as_the_live_copy() -> None:
    live, history = recorded("muc-message"), recorded("muc-history")
    event = mapping.room_message(history, CTX, [], room=ROOM, own_nick="Alice-2", real_jid=None)
    assert event is not None and event.is_backfill  # delayed by the room itself
    assert event.server_id == stanza_id_by(live, ROOM)


def test_a_room_archive_result() -> None:
    stanza = recorded("muc-mam-result")
    assert mapping.sender_of(stanza).bare == ROOM  # the results come from the room, not our server
    result = mapping.mam_result(stanza)
    assert result is not None
    event = mapping.room_message(
        result.message, CTX, [], room=ROOM, own_nick="Alice", real_jid=None, archived=result.archived
    )
    assert event is not None and (event.body, event.sender_name) == ("while alice was out", "Bob")
    assert event.server_id == result.archived.result_id and event.is_backfill


def test_subjects_are_topics_not_messages() -> None:
    subject = recorded("muc-subject")
    assert mapping.subject_of(subject) == "plans for friday" and mapping.body_of(subject) is None
    assert mapping.subject_of(recorded("muc-subject-empty")) == ""  # the end of the join history


# From XEP-0045's examples (shapes Prosody sends only on a moderator's action):


def muc_presence(codes: str, *, item: str = "<item affiliation='none' role='none'/>") -> ET.Element:
    return ET.fromstring(
        f"<presence xmlns='jabber:client' from='{ROOM}/Alice' to='{OWN}/x' type='unavailable'>"
        f"<x xmlns='{mapping.NS_MUC_USER}'>{item}{codes}</x></presence>"
    )


def test_a_kick_is_a_removal_with_its_reason() -> None:
    occupant = mapping.occupant_of(muc_presence("<status code='307'/><status code='110'/>"))
    assert occupant is not None and not occupant.available
    assert removal_reason(occupant.codes) == "kicked from the room"


def test_a_nick_change_names_the_new_nick() -> None:
    stanza = muc_presence("<status code='303'/><status code='110'/>", item="<item nick='Alicia' role='participant'/>")
    occupant = mapping.occupant_of(stanza)
    assert occupant is not None and occupant.new_nick == "Alicia" and "303" in occupant.codes
