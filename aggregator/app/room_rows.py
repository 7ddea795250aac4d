"""Rooms as the UI shows them: frozen values built on the engine thread from the room directory.

The functions here run on the engine thread only (through ``Bridge.run``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import AccountId, Capability, ConfigurationError, ConversationKey, Sphere
from aggregator.core import Core
from aggregator.rooms.records import Room


@dataclass(frozen=True, slots=True)
class RoomRow:
    key: ConversationKey
    name: str  # the room's address as the user knows it
    sphere: Sphere  # the sphere of its account
    account: str  # the account's label or address
    protocol: str  # the protocol's display name
    nick: str | None
    joined: bool
    members: tuple[str, ...]
    topic: str
    topic_set_by: str | None
    error: str
    autojoin: bool
    can_set_topic: bool
    unread: int = 0

    @property
    def account_id(self) -> AccountId:
        return self.key.account_id

    @property
    def short_name(self) -> str:
        """The buddy list's label: ``team`` for ``team@conference.example.org``; other addresses whole."""
        local, at, _domain = self.name.partition("@")
        return local if at and local and not self.name.startswith("@") else self.name


@dataclass(frozen=True, slots=True)
class GroupChatAccount:
    """An account the "Join room" dialog offers."""

    id: AccountId
    name: str
    protocol: str


def room_unread(core: Core, key: ConversationKey) -> int:
    conv_id = core.archive.conversation_id(key, create=False)
    return 0 if conv_id is None else core.roster.unread.conversation(conv_id)


def mark_room_read(core: Core, key: ConversationKey) -> None:
    conv_id = core.archive.conversation_id(key, create=False)
    if conv_id is not None:
        core.roster.unread.mark_conversation_read(conv_id)


def room_of_conversation(core: Core, conversation_id: int) -> RoomRow | None:
    """The room row of an archive conversation, if it is a room the directory knows."""
    room = core.rooms.room(core.archive.conversation_key(conversation_id))
    return None if room is None else room_row(core, room)


def room_row(core: Core, room: Room) -> RoomRow:
    sphere, account, protocol = Sphere.PERSONAL, room.account_id, room.account_id.partition(":")[0]
    can_set_topic = False
    try:
        config = core.accounts.config(room.account_id)
        sphere, account = config.sphere, config.display_name
        info = core.registry.get(config.protocol)
        protocol, can_set_topic = info.name, bool(info.capabilities & Capability.GROUP_CHAT)
    except (KeyError, ConfigurationError):
        pass
    return RoomRow(
        key=room.key,
        name=room.name,
        sphere=sphere,
        account=account,
        protocol=protocol,
        nick=room.nick,
        joined=room.joined,
        members=room.members,
        topic=room.topic,
        topic_set_by=room.topic_set_by,
        error=room.error,
        autojoin=room.autojoin,
        can_set_topic=can_set_topic,
        unread=room_unread(core, room.key),
    )


def all_rooms(core: Core) -> list[RoomRow]:
    return [room_row(core, room) for room in core.rooms.rooms()]


def group_chat_accounts(core: Core) -> list[GroupChatAccount]:
    found = []
    for config in core.accounts.configs():
        try:
            info = core.registry.get(config.protocol)
        except ConfigurationError:
            continue
        if info.capabilities & Capability.GROUP_CHAT:
            found.append(GroupChatAccount(config.id, config.display_name, info.name))
    return found
