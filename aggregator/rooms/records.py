"""Values of the room directory. Frozen: readers never change the directory through them."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import AccountId, ConversationKey


@dataclass(frozen=True, slots=True)
class WantedRoom:
    """A room the user wants to be in: the address as given (what ``join_room`` takes), an optional
    nick, and the conversation handle the protocol answered with (a Matrix alias becomes a room id)."""

    address: str
    nick: str | None = None
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class Room:
    """One room of one account, joined or not."""

    key: ConversationKey
    address: str
    #: Our nick while joined (else the nick we asked for, if any).
    nick: str | None = None
    joined: bool = False
    #: Joined after every connect: persisted by the user's ``join``, or in the account's ``autojoin``.
    wanted: bool = False
    autojoin: bool = False
    members: tuple[str, ...] = ()
    topic: str = ""
    topic_set_by: str | None = None
    #: Why the last join failed (or why the room was left, when the server made us leave); "" if it did not.
    error: str = ""

    @property
    def account_id(self) -> AccountId:
        return self.key.account_id

    @property
    def name(self) -> str:
        """What the buddy list shows: the address as the user knows it."""
        return self.address or self.key.handle
