"""How a view names who wrote each message (``SenderNames``): built by the read models, used by views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aggregator.api import AccountId
from aggregator.archive.records import Direction, StoredMessage
from aggregator.rooms.mentions import mentions

OWN = "me"  # our name where the core knows none


@dataclass(frozen=True, slots=True)
class SenderNames:
    """How a view names who wrote each message.

    ``person``: a person tab's display name of the person, used for all their messages (None: the name
    the message came with, e.g. a room nick). ``own``: our name per account (a room tab: our nick).
    Our messages all carry one name (``us``), whichever account sent them: in a merged conversation,
    an account without a name of its own is not "me" next to another's "Alice" ("me" only when no
    account has a name). ``accounts``: account labels for tooltips. ``mention``: in a room, the names
    that mention us (highlighted rows)."""

    person: str | None = None
    own: Mapping[AccountId, str] = field(default_factory=dict)
    accounts: Mapping[AccountId, str] = field(default_factory=dict)
    mention: tuple[str, ...] = ()

    @property
    def us(self) -> str | None:
        """Our one name in this view: the name of the first account that has one (None: no name known)."""
        return next((name for name in self.own.values() if name), None)

    def name(self, message: StoredMessage) -> str:
        if message.direction is Direction.OUT:
            return self.us or OWN
        return self.person or message.sender_name or message.sender

    def actor(self, message: StoredMessage) -> str:
        """The name in "* name waves": never "* me waves" (our address when we have no name)."""
        if message.direction is Direction.OUT:
            return self.us or message.sender_name or message.sender
        return self.name(message)

    def account(self, account_id: AccountId) -> str:
        return self.accounts.get(account_id) or account_id

    def mentions_us(self, message: StoredMessage) -> bool:
        return message.direction is Direction.IN and bool(self.mention) and mentions(message.body, self.mention)
