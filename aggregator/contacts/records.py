"""The values of contact requests: a pending request as the views show it, and how one was closed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from aggregator.api import AccountId, ContactRef, RequestKind


class RequestOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    BLOCKED = "blocked"
    DECLINED_BY_POLICY = "declined-by-policy"  # the organisation's allowed_domains


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRequest:
    """A contact request or an invitation waiting for an answer.

    ``handle`` is the person asking (``CONTACT``, ``DIRECT_INVITE``) or the room (``ROOM_INVITE``, then
    ``inviter`` is the person, ``display_name`` the room's name). ``person_name`` is the name of the
    person the asker already is in the buddy list (None: a stranger); ``account_label`` names the account
    that received it."""

    id: int
    account_id: AccountId
    kind: RequestKind
    handle: str
    received_at: datetime
    inviter: str | None = None
    display_name: str | None = None
    message: str = ""
    account_label: str = ""
    person_name: str | None = None

    @property
    def peer(self) -> str:
        """The address of the person asking or inviting."""
        return self.inviter if self.kind is RequestKind.ROOM_INVITE and self.inviter else self.handle

    @property
    def who(self) -> str:
        """The person asking, as the user knows them: their name in the buddy list, the name they gave,
        or their address."""
        if self.kind is RequestKind.ROOM_INVITE:
            return self.person_name or self.peer
        return self.person_name or self.display_name or self.peer

    @property
    def contact(self) -> ContactRef:
        return ContactRef(self.account_id, self.peer)

    def sentence(self) -> str:
        """What the request asks, in words (the banner, ``run --headless``, the notification)."""
        who = self.who if self.who == self.peer else f"{self.who} ({self.peer})"
        if self.kind is RequestKind.ROOM_INVITE:
            return f"{who} invites you to the room {self.display_name or self.handle}"
        if self.kind is RequestKind.DIRECT_INVITE:
            return f"{who} invites you to a direct chat"
        return f"{who} asks to add you as a contact"
