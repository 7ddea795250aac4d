"""Translates stanzas (their XML, as ``lib.Client`` hands them over) into typed adapter events.

This is the one place where stanzas are read. Every function reads the XML it needs
and raises ``StanzaError`` for input it cannot use; the adapter turns that into an ``AdapterWarning``.
Nothing here sends anything.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from aggregator.api import (
    AccountId,
    ConfigurationError,
    ConversationKey,
    MessageKind,
    MessageReceived,
    Presence,
    PresenceKind,
    RosterItem,
    TimestampPrecision,
)
from protocols.xmpp.addresses import Jid, parse_jid
from protocols.xmpp.file_links import offers_in

NS_CLIENT = "jabber:client"
NS_SID = "urn:xmpp:sid:0"
NS_DELAY = "urn:xmpp:delay"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DATA = "jabber:x:data"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"
NS_NICK = "http://jabber.org/protocol/nick"
NS_CONFERENCE = "jabber:x:conference"
NS_BLOCKING = "urn:xmpp:blocking"

#: XMPP ``<show/>`` values and our presence kinds, both ways.
_SHOW_TO_KIND = {
    "": PresenceKind.AVAILABLE,
    "chat": PresenceKind.AVAILABLE,
    "away": PresenceKind.AWAY,
    "xa": PresenceKind.EXTENDED_AWAY,
    "dnd": PresenceKind.BUSY,
}
KIND_TO_SHOW = {
    PresenceKind.AVAILABLE: "",
    PresenceKind.AWAY: "away",
    PresenceKind.EXTENDED_AWAY: "xa",
    PresenceKind.BUSY: "dnd",
}
#: Chat states (XEP-0085) that mean "is typing".
TYPING_STATES = frozenset({"composing"})
CHAT_STATES = frozenset({"active", "composing", "paused", "inactive", "gone"})


class StanzaError(ValueError):
    """A stanza the adapter cannot use. The message says what is wrong (no stanza dump)."""


def _jid(value: str, what: str) -> Jid:
    try:
        return parse_jid(str(value))
    except ConfigurationError as exc:
        raise StanzaError(f"invalid {what} address: {exc}") from None
    except Exception as exc:  # slixmpp raises InvalidJID lazily when the attribute is read
        raise StanzaError(f"invalid {what} address: {exc}") from None


def sender_of(stanza: ET.Element) -> Jid:
    """The stanza's ``from`` as a normalised JID (raw attribute: slixmpp's JID parsing may raise)."""
    raw = _xml(stanza).get("from")
    if not raw:
        raise StanzaError(f"a <{_local_name(_xml(stanza).tag)}> without a sender")
    return _jid(raw, "sender")


def recipient_of(stanza: ET.Element, fallback: Jid) -> Jid:
    raw = _xml(stanza).get("to")
    return _jid(raw, "recipient") if raw else fallback


def _xml(stanza: object) -> ET.Element:
    element = getattr(stanza, "xml", stanza)
    if not isinstance(element, ET.Element):
        raise StanzaError("not an XML element")
    return element


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element, namespace: str, name: str) -> ET.Element | None:
    return element.find(f"{{{namespace}}}{name}")


def body_of(stanza: ET.Element) -> str | None:
    """The ``<body/>`` text (no xml:lang selection: the first body), or None without a body.

    Markup inside a body (child elements, which RFC 6120 does not allow) is kept as text: the
    children's text is joined so that nothing the sender typed is lost, and no markup is interpreted.
    """
    body = _child(_xml(stanza), NS_CLIENT, "body")
    if body is None:
        return None
    return "".join(body.itertext())


def message_id(stanza: ET.Element) -> str | None:
    value = _xml(stanza).get("id")
    return value or None


def origin_id(stanza: ET.Element) -> str | None:
    element = _child(_xml(stanza), NS_SID, "origin-id")
    value = element.get("id") if element is not None else None
    return value or None


def stanza_id(stanza: ET.Element, by: str) -> str | None:
    """The XEP-0359 stanza-id that ``by`` (our own archive) assigned; others are ignored (spoofable)."""
    for element in _xml(stanza).findall(f"{{{NS_SID}}}stanza-id"):
        by_attr = element.get("by")
        if not by_attr:
            continue
        try:
            matches = parse_jid(by_attr).bare == by
        except ConfigurationError:
            continue
        value = element.get("id")
        if matches and value:
            return value
    return None


def delay_of(stanza: ET.Element) -> tuple[datetime | None, str | None]:
    """(timestamp, who added the delay) of a XEP-0203 ``<delay/>``; raises ``StanzaError`` if malformed."""
    element = _child(_xml(stanza), NS_DELAY, "delay")
    if element is None:
        return None, None
    stamp = element.get("stamp") or ""
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise StanzaError(f"invalid delay timestamp {stamp[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), element.get("from") or None


def chat_state_of(stanza: ET.Element) -> str | None:
    for child in _xml(stanza):
        if child.tag.startswith(f"{{{NS_CHATSTATES}}}") and _local_name(child.tag) in CHAT_STATES:
            return _local_name(child.tag)
    return None


def receipt_of(stanza: ET.Element) -> str | None:
    """The id a XEP-0184 ``<received/>`` confirms."""
    element = _child(_xml(stanza), "urn:xmpp:receipts", "received")
    value = element.get("id") if element is not None else None
    return value or None


def carbon_of(stanza: ET.Element) -> tuple[str, ET.Element] | None:
    """("sent" | "received", the forwarded message) of a XEP-0280 carbon, else None."""
    for direction in ("sent", "received"):
        wrapper = _child(_xml(stanza), NS_CARBONS, direction)
        if wrapper is None:
            continue
        forwarded = _child(wrapper, NS_FORWARD, "forwarded")
        inner = _child(forwarded, NS_CLIENT, "message") if forwarded is not None else None
        if inner is None:
            raise StanzaError(f"a {direction} carbon without a forwarded message")
        return direction, inner
    return None


@dataclass(frozen=True, slots=True)
class Context:
    """What mapping needs to know about the account."""

    account_id: AccountId
    own: Jid  # bare
    server_domain: str


def message_received(
    stanza: ET.Element,
    ctx: Context,
    problems: list[str],
    *,
    own_echo: bool = False,
    now: datetime | None = None,
    archived: Archived | None = None,
) -> MessageReceived | None:
    """A ``MessageReceived`` for a 1:1 chat message with a body, or None if it has no body.

    ``own_echo``: the stanza is a copy of a message we sent (carbon ``sent``): the conversation is
    the recipient's, the sender is us, and the origin-id comes back as the idempotency key.
    ``archived``: the stanza came out of our MAM archive; its result id is the server id (the same
    id as the stanza-id on the live copy) and its archive time the timestamp.
    ``replaces_server_id`` is the raw XEP-0308 id (the replaced message's ``id``); the adapter maps it.
    Problems that do not cost the message (a malformed delay: the receive time is used) are
    appended to ``problems``; unusable stanzas raise ``StanzaError``.
    """
    body = body_of(stanza)
    if body is None:
        return None
    sender = ctx.own if own_echo else sender_of(stanza)
    peer = recipient_of(stanza, ctx.own) if own_echo else sender
    try:
        timestamp, delayed_by = delay_of(stanza)
    except StanzaError as exc:
        problems.append(f"message from {sender.bare}: {exc}; using the time it arrived")
        timestamp, delayed_by = None, None
    kind = MessageKind.CHAT
    if body.startswith("/me "):  # XEP-0245
        kind, body = MessageKind.ACTION, body[4:]
    mtype = _xml(stanza).get("type") or "normal"
    if mtype == "headline":
        kind = MessageKind.NOTICE
    server_id = stanza_id(stanza, ctx.own.bare) or message_id(stanza)
    backfill = timestamp is not None and delayed_by in (ctx.server_domain, ctx.own.bare)
    if archived is not None:
        server_id, backfill = archived.result_id, True
        timestamp = archived.stamp or timestamp
    return MessageReceived(
        account_id=ctx.account_id,
        conversation=ConversationKey.direct(ctx.account_id, peer.bare),
        sender=sender.bare,
        body=body,
        server_id=server_id,
        timestamp=timestamp or now or datetime.now(UTC),
        timestamp_precision=TimestampPrecision.of_stamp(timestamp),  # XEP-0082: the fraction is optional
        kind=kind,
        is_backfill=backfill,
        is_own_echo=own_echo,
        idempotency_key=origin_id(stanza) if own_echo else None,
        replaces_server_id=replace_id(stanza),
        files=offers_in(stanza, body),
    )


def room_message(
    stanza: ET.Element,
    ctx: Context,
    problems: list[str],
    *,
    room: str,
    own_nick: str,
    real_jid: str | None,
    own_keys: frozenset[str] | set[str] = frozenset(),
    history: bool = False,
    archived: Archived | None = None,
) -> MessageReceived | None:
    """A ``MessageReceived`` for a groupchat message of ``room`` (from ``room/nick``), None without a body.

    Our own message (reflected by the room, or from another of our sessions under the same nick) is an
    own echo: sender is our own address, the origin-id the idempotency key. Others' sender is their real
    JID when the room shows it, else their nick; ``sender_name`` is always the nick. The server id is
    the stanza-id the room assigned (the same on the live copy, in the join history and in MUC-MAM).
    """
    body = body_of(stanza)
    if body is None:
        return None
    sender = sender_of(stanza)
    nick = sender.resource
    key = origin_id(stanza) or message_id(stanza)
    own = bool(nick) and (nick == own_nick or (key is not None and key in own_keys))
    try:
        timestamp, delayed_by = delay_of(stanza)
    except StanzaError as exc:
        problems.append(f"message in {room}: {exc}; using the time it arrived")
        timestamp, delayed_by = None, None
    kind = MessageKind.CHAT
    if not nick:
        kind = MessageKind.NOTICE  # from the room itself
    elif body.startswith("/me "):
        kind, body = MessageKind.ACTION, body[4:]
    server_id = stanza_id(stanza, room) or message_id(stanza)
    backfill = history or (timestamp is not None and delayed_by == room)
    if archived is not None:
        server_id, backfill = archived.result_id, True
        timestamp = archived.stamp or timestamp
    if own:
        who = ctx.own.bare
    elif not nick:
        who = room
    else:
        who = real_jid or nick
    return MessageReceived(
        account_id=ctx.account_id,
        conversation=ConversationKey.room(ctx.account_id, room),
        sender=who,
        sender_name=nick or None,
        body=body,
        server_id=server_id,
        timestamp=timestamp or datetime.now(UTC),
        timestamp_precision=TimestampPrecision.of_stamp(timestamp),
        kind=kind,
        is_backfill=backfill,
        is_own_echo=own,
        idempotency_key=origin_id(stanza) if own else None,
        replaces_server_id=replace_id(stanza),
        files=offers_in(stanza, body),
    )


@dataclass(frozen=True, slots=True)
class Archived:
    """Where a MAM result came from: its archive id (RSM id) and archive time."""

    result_id: str
    stamp: datetime | None


@dataclass(frozen=True, slots=True)
class MamResult:
    query_id: str
    archived: Archived
    message: ET.Element


def mam_result(stanza: ET.Element) -> MamResult | None:
    """The XEP-0313 ``<result/>`` a message carries, or None. Raises ``StanzaError`` when malformed."""
    result = _child(_xml(stanza), NS_MAM, "result")
    if result is None:
        return None
    query_id, result_id = result.get("queryid") or "", result.get("id") or ""
    forwarded = _child(result, NS_FORWARD, "forwarded")
    inner = _child(forwarded, NS_CLIENT, "message") if forwarded is not None else None
    if not result_id or forwarded is None or inner is None:
        raise StanzaError("an archive result without an id or a forwarded message")
    stamp, _ = delay_of(forwarded)
    return MamResult(query_id, Archived(result_id, stamp), inner)


def replace_id(stanza: ET.Element) -> str | None:
    """The id a XEP-0308 correction replaces."""
    element = _child(_xml(stanza), NS_CORRECT, "replace")
    value = element.get("id") if element is not None else None
    return value or None


def subject_of(stanza: ET.Element) -> str | None:
    """A groupchat ``<subject/>`` (the room topic; empty clears it), None without one."""
    element = _child(_xml(stanza), NS_CLIENT, "subject")
    return None if element is None else "".join(element.itertext()).strip()


def error_of(stanza: ET.Element) -> str:
    """A readable reason of a stanza error: its text, else its condition (e.g. ``service-unavailable``)."""
    error = _child(_xml(stanza), NS_CLIENT, "error")
    if error is None:
        return "unknown error"
    condition, text = "", ""
    for child in error:
        name = _local_name(child.tag)
        if name == "text":
            text = "".join(child.itertext()).strip()
        elif child.tag.startswith(f"{{{NS_STANZAS}}}") and not condition:
            condition = name
    condition = condition or "undefined-condition"
    return f"{condition}: {text}" if text else condition


@dataclass(frozen=True, slots=True)
class Occupant:
    """What a presence from ``room/nick`` says (XEP-0045 ``muc#user``)."""

    nick: str
    real_jid: str | None
    available: bool
    codes: frozenset[str]
    new_nick: str | None = None


def occupant_of(stanza: ET.Element) -> Occupant | None:
    """The MUC occupant a presence describes, or None if it carries no ``muc#user`` data."""
    element = _xml(stanza)
    x = _child(element, NS_MUC_USER, "x")
    if x is None:
        return None
    sender = sender_of(stanza)
    item = _child(x, NS_MUC_USER, "item")
    real: str | None = None
    new_nick: str | None = None
    if item is not None:
        if item.get("jid"):
            try:
                real = parse_jid(item.get("jid") or "").bare
            except ConfigurationError:
                real = None
        new_nick = item.get("nick") or None
    codes = frozenset(code for s in x.findall(f"{{{NS_MUC_USER}}}status") if (code := s.get("code")))
    return Occupant(
        nick=sender.resource,
        real_jid=real,
        available=(element.get("type") or "available") != "unavailable",
        codes=codes,
        new_nick=new_nick,
    )


def presence_of(stanza: ET.Element) -> Presence | None:
    """The presence an available/unavailable ``<presence/>`` states, None for other types."""
    element = _xml(stanza)
    ptype = element.get("type") or "available"
    status_element = _child(element, NS_CLIENT, "status")
    status = "".join(status_element.itertext()).strip() if status_element is not None else ""
    if ptype == "unavailable":
        return Presence(PresenceKind.OFFLINE, status)
    if ptype != "available":
        return None
    show_element = _child(element, NS_CLIENT, "show")
    show = (show_element.text or "").strip() if show_element is not None else ""
    kind = _SHOW_TO_KIND.get(show)
    if kind is None:
        raise StanzaError(f"unknown presence <show> value {show[:20]!r}")
    return Presence(kind, status)


def priority_of(stanza: ET.Element) -> int:
    element = _child(_xml(stanza), NS_CLIENT, "priority")
    try:
        return max(-128, min(127, int((element.text or "0").strip()))) if element is not None else 0
    except ValueError:
        return 0


def nick_of(stanza: ET.Element) -> str | None:
    """The XEP-0172 nickname a subscription request (or a message) carries, if any."""
    element = _child(_xml(stanza), NS_NICK, "nick")
    nick = "".join(element.itertext()).strip() if element is not None else ""
    return nick or None


def invitation_of(stanza: ET.Element) -> tuple[str, str | None, str] | None:
    """(room, inviter, reason) of a room invitation: XEP-0249 direct (``jabber:x:conference``; the
    inviter is the sender) or XEP-0045 mediated (from the room, ``<invite from=.../>``). None otherwise."""
    xml = _xml(stanza)
    direct = _child(xml, NS_CONFERENCE, "x")
    if direct is not None and direct.get("jid"):
        return _jid(str(direct.get("jid")), "room").bare, None, direct.get("reason") or ""
    user = _child(xml, NS_MUC_USER, "x")
    invite = _child(user, NS_MUC_USER, "invite") if user is not None else None
    if invite is not None and xml.get("from"):
        reason = _child(invite, NS_MUC_USER, "reason")
        inviter = invite.get("from")
        return (
            _jid(str(xml.get("from")), "room").bare,
            _jid(inviter, "inviter").bare if inviter else None,
            "".join(reason.itertext()).strip() if reason is not None else "",
        )
    return None


def subscription_message(stanza: ET.Element) -> str:
    element = _child(_xml(stanza), NS_CLIENT, "status")
    return "".join(element.itertext()).strip() if element is not None else ""


def roster_items(iq: ET.Element) -> tuple[tuple[RosterItem, ...], tuple[str, ...], list[str]]:
    """(items, removed handles, problems) of a roster result or push. Bad items become problems."""
    query = _child(_xml(iq), "jabber:iq:roster", "query")
    if query is None:
        raise StanzaError("a roster answer without <query xmlns='jabber:iq:roster'>")
    items: list[RosterItem] = []
    removed: list[str] = []
    problems: list[str] = []
    for element in query.findall("{jabber:iq:roster}item"):
        try:
            jid = _jid(element.get("jid") or "", "roster item")
        except StanzaError as exc:
            problems.append(str(exc))
            continue
        subscription = element.get("subscription") or "none"
        if subscription == "remove":
            removed.append(jid.bare)
            continue
        groups = tuple(dict.fromkeys("".join(g.itertext()).strip() for g in element.findall("{jabber:iq:roster}group")))
        items.append(
            RosterItem(
                handle=jid.bare,
                name=element.get("name") or None,
                groups=tuple(g for g in groups if g),
                subscription=subscription if subscription in ("none", "to", "from", "both") else "none",
            )
        )
    return tuple(items), tuple(removed), problems


def failure_condition(stanza: object) -> str:
    """The condition element's name of a SASL ``<failure/>`` or a stream error (e.g. ``not-authorized``)."""
    try:
        element = _xml(stanza)
    except StanzaError:
        return "unknown"
    for child in element:
        name = _local_name(child.tag)
        if name != "text":
            return name
    return "unknown"
