"""The links a desktop hands us are untrusted: each scheme parses to the right conversation, and
anything malformed, ambiguous or smuggling control characters is refused."""

from __future__ import annotations

import pytest

from aggregator.accounts.config import AccountConfig
from aggregator.api import ConversationKey, ConversationKind
from aggregator.desktop.uri import BadLinkError, LinkTarget, candidates, parse_link

DIRECT, ROOM = ConversationKind.DIRECT, ConversationKind.ROOM


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("xmpp:alice@example.org", LinkTarget("xmpp", DIRECT, "alice@example.org")),
        ("xmpp:alice@Example.ORG/laptop", LinkTarget("xmpp", DIRECT, "alice@example.org")),
        (
            "xmpp:alice@example.org?message;body=Hello%20there%0Asee%20you",
            LinkTarget("xmpp", DIRECT, "alice@example.org", body="Hello there\nsee you"),
        ),
        ("xmpp:team@conference.example.org?join", LinkTarget("xmpp", ROOM, "team@conference.example.org")),
        ("xmpp:%C3%A9lise@example.org", LinkTarget("xmpp", DIRECT, "élise@example.org")),
        ("matrix:u/alice:example.org", LinkTarget("matrix", DIRECT, "@alice:example.org")),
        ("matrix:u/alice:example.org?action=chat", LinkTarget("matrix", DIRECT, "@alice:example.org")),
        ("matrix:r/team:example.org", LinkTarget("matrix", ROOM, "#team:example.org")),
        (
            "matrix:r/team:example.org:8448?action=join&via=other.org",
            LinkTarget("matrix", ROOM, "#team:example.org:8448"),
        ),
        (
            "matrix:roomid/AbC123:example.org/e/$event?via=example.org",
            LinkTarget("matrix", ROOM, "!AbC123:example.org"),
        ),
        ("irc://irc.example.org/team", LinkTarget("irc", ROOM, "#team", host="irc.example.org")),
        ("ircs://irc.example.org:6697/%23ops", LinkTarget("irc", ROOM, "#ops", host="irc.example.org")),
        ("irc://irc.example.org/&local", LinkTarget("irc", ROOM, "&local", host="irc.example.org")),
        ("irc://irc.example.org/bob,isnick", LinkTarget("irc", DIRECT, "bob", host="irc.example.org")),
        (
            "aggregator:open?account=xmpp%3Aalice%40example.org&to=bob%40example.org",
            LinkTarget("", DIRECT, "bob@example.org", account="xmpp:alice@example.org"),
        ),
        (
            "aggregator:open?account=irc%3Aalice&room=%23team",
            LinkTarget("", ROOM, "#team", account="irc:alice"),
        ),
    ],
)
def test_a_link_names_its_conversation(link: str, expected: LinkTarget) -> None:
    assert parse_link(link) == expected


@pytest.mark.parametrize(
    "link",
    [
        "",
        "https://example.org/",
        "javascript:alert(1)",
        "xmpp:example.org",  # a server, not a person
        "xmpp://alice@example.org/bob@example.org",  # authority part
        "xmpp:al'ice@example.org",
        "xmpp:alice@exa_mple.org",
        "xmpp:alice@example.org?unregister",
        "xmpp:alice@example.org?message;body=%00",
        "xmpp:alice@example.org?message;body=%E2%80%AEevil",  # right-to-left override
        "xmpp:alice@example.org?message;body=" + "a" * 5000,
        "xmpp:%FF@example.org",  # not UTF-8
        "matrix:u/alice",
        "matrix:u/@alice:example.org",  # the sigil is the segment's job
        "matrix:u/alice:example.org/e/event",  # only rooms have events
        "matrix:x/alice:example.org",
        "matrix:r/team:exa mple.org",
        "matrix:r/team:example.org:99999",
        "matrix:r/team:example.org?action=leave",
        "matrix://example.org/r/team",
        "irc://irc.example.org/",
        "irc://user:secret@irc.example.org/team",
        "irc://irc.example.org/team?key=x",
        "irc://irc.example.org/te%20am",
        "irc://irc.example.org/team,evil",
        "irc://irc.example.org/bad nick,isnick",
        "irc://irc.example.org/9bob,isnick",
        "irc://-bad-.org/team",
        "aggregator:open?account=nope&to=bob",
        "aggregator:open?account=fake%3Ax&to=a&room=b",
        "aggregator:open?account=fake%3Ax",
        "aggregator:delete?account=fake%3Ax&to=a",
        "aggregator:open?account=fake%3Ax&to=a&extra=1",
        "xmpp:alice@example.org\n",
        "xmpp:" + "a" * 3000 + "@example.org",
    ],
)
def test_a_bad_link_is_refused(link: str) -> None:
    with pytest.raises(BadLinkError):
        parse_link(link)


def test_a_link_opens_on_the_accounts_of_its_protocol_and_irc_network() -> None:
    accounts = [
        AccountConfig(id="xmpp:me@example.org", protocol="xmpp", address="me@example.org"),
        AccountConfig(id="xmpp:off@example.org", protocol="xmpp", address="off@example.org", enabled=False),
        AccountConfig(id="irc:me", protocol="irc", address="me", server="irc.example.org:6697"),
        AccountConfig(id="irc:me2", protocol="irc", address="me2", server="irc.other.net"),
        AccountConfig(id="matrix:@me:example.org", protocol="matrix", address="@me:example.org"),
    ]
    assert candidates(parse_link("xmpp:bob@example.org"), accounts) == [
        ConversationKey.direct("xmpp:me@example.org", "bob@example.org")
    ]
    assert candidates(parse_link("irc://IRC.example.org/team"), accounts) == [
        ConversationKey.room("irc:me", "#team")
    ]
    assert candidates(parse_link("irc://irc.nowhere.net/team"), accounts) == []
    assert candidates(parse_link("aggregator:open?account=irc%3Ame2&room=%23x"), accounts) == [
        ConversationKey.room("irc:me2", "#x")
    ]
