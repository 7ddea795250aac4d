"""Events of the user's own status, published on the bus (the status selector and the accounts strip listen)."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import AccountId, Presence
from aggregator.events import CoreEvent
from aggregator.presence.status import StatusBook


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnStatusChanged(CoreEvent):
    """The user's choices (``book``) or what an account shows (``shown``, every configured account) changed."""

    book: StatusBook
    shown: tuple[tuple[AccountId, Presence], ...]

    def shown_by(self, account_id: AccountId) -> Presence | None:
        return next((p for a, p in self.shown if a == account_id), None)
