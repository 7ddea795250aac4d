"""Mentions in rooms: our nick (or our address, e.g. a Matrix user id) as a whole word, any case."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aggregator.accounts.config import AccountConfig
from aggregator.accounts.own_name import own_display_name
from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.archive import Direction, StoredMessage
from aggregator.events import ConnectionState
from aggregator.rooms.mentions import is_mention, mentions, own_names
from aggregator.rooms.records import Room
from tests.core.conftest import CoreWorld, eventually
from tests.core.test_rooms import TEAM, room_key, set_options

ACCOUNT = "matrix:@ali:example.org"
ROOM = Room(ConversationKey.room(ACCOUNT, "!abc:example.org"), "#team:example.org", nick="Ali", joined=True)


def said(body: str, *, by: str = "Carol", direction: Direction = Direction.IN) -> StoredMessage:
    at = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    return StoredMessage(
        id=1,
        account_id=ACCOUNT,
        conversation_id=1,
        conversation=ROOM.key,
        direction=direction,
        kind=MessageKind.CHAT,
        sender=f"@{by.lower()}:example.org",
        body=body,
        sent_at=at,
        received_at=at,
        state=MessageState.RECEIVED,
        sender_name=by,
    )


def test_a_nick_is_mentioned_as_a_whole_word_in_any_case() -> None:
    for body in ("ali: lunch?", "thanks ALI!", "@ali see this", "ping (Ali)", "Ali", "hey ali\nsecond line"):
        assert mentions(body, ["Ali"]), body
    for body in ("alicia is here", "kali_1 left", "ali2 joined", "a li", "", "bali"):
        assert not mentions(body, ["Ali"]), body


def test_names_with_punctuation_are_matched_literally() -> None:
    assert mentions("cc @ali:example.org please", ["@ali:example.org"])
    assert not mentions("cc @ali:example.org2 please", ["@ali:example.org"])
    assert mentions("ask [ali] or {bob}", ["[ali]"])
    assert not mentions("a.b.c", ["a+b"])  # no regular expression from a nick
    assert not mentions("anything", ["", "  "])  # a blank name never matches


def test_our_nick_and_our_address_count() -> None:
    assert own_names(ROOM, "@ali:example.org") == ("Ali", "@ali:example.org")
    assert own_names(replace(ROOM, nick=None), "@ali:example.org") == ("@ali:example.org",)
    assert own_names(None, "ali") == ("ali",)
    assert own_names(replace(ROOM, nick="ali"), "ali") == ("ali",)


def test_only_someone_elses_room_message_is_a_mention() -> None:
    address = "@ali:example.org"
    assert is_mention(said("Ali, can you look?"), ROOM, address)
    assert is_mention(said("cc @ali:example.org"), ROOM, address)  # the Matrix user id
    assert not is_mention(said("Alice, can you look?"), ROOM, address)
    assert not is_mention(said("I am Ali", direction=Direction.OUT), ROOM, address)  # ours
    assert not is_mention(said("Ali here", by="Ali"), ROOM, address)  # our own line echoed by the room
    direct = replace(said("Ali?"), conversation=ConversationKey.direct(ACCOUNT, "@carol:example.org"))
    assert not is_mention(direct, ROOM, address)  # a direct message is not a room mention


def test_our_display_name_comes_from_the_account_options() -> None:
    config = AccountConfig(id="irc:ali", protocol="irc", address="ali")
    assert own_display_name(config) is None
    assert own_display_name(replace(config, options={"realname": " Ali Baba "})) == "Ali Baba"
    assert own_display_name(replace(config, options={"display_name": "Ali", "realname": "A. B."})) == "Ali"
    assert own_display_name(replace(config, options={"display_name": "  "})) is None


async def test_a_mention_in_a_room_is_unread_for_the_room(world: CoreWorld) -> None:
    carol = world.server.add_user("carol@fake.test", "carol-pw")
    world.server.create_room(TEAM, "")
    await world.server.enter_room(carol, TEAM, "Carol")
    set_options(world, autojoin=f"{TEAM}/Ali")
    core = await world.start()
    await world.wait_state(ConnectionState.CONNECTED)
    await eventually(lambda: (core.rooms.room(room_key(world)) or ROOM).joined)
    await world.server.say_in_room(carol, TEAM, "ali: the build is red")
    await eventually(lambda: len(core.rooms.history(room_key(world))) == 1)
    (stored,) = core.rooms.history(room_key(world))
    room = core.rooms.room(room_key(world))
    assert is_mention(stored, room, world.alice)
    assert core.roster.unread.conversation(stored.conversation_id) == 1


def test_every_protocol_has_a_setting_for_our_own_name() -> None:
    from aggregator.accounts.own_name import OPTIONS
    from aggregator.registry import ProtocolRegistry

    for info in ProtocolRegistry.discover().all():
        assert {f.name for f in info.fields} & set(OPTIONS), f"{info.name} has no setting for our name"
