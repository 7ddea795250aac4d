"""What one account shows: the user's choice, quieted by work hours, then by idleness. Pure."""

from __future__ import annotations

from datetime import datetime

from aggregator.api import AccountId, Presence, PresenceKind, Sphere
from aggregator.presence.status import StatusBook


def shown_presence(
    book: StatusBook, account_id: AccountId, sphere: Sphere, now: datetime, idle_seconds: float | None
) -> Presence:
    """Work hours and auto-away only ever make an account less reachable, never more: a user who
    chose busy or offline stays busy or offline."""
    presence = book.chosen(account_id, sphere)
    quiet = book.work_hours.quiet_sphere(now)
    if quiet is sphere and presence.kind.rank < book.work_hours.quiet_kind.rank:
        presence = Presence(book.work_hours.quiet_kind, presence.status)
    idle_limit = book.auto_away_minutes * 60
    if (
        idle_limit > 0
        and idle_seconds is not None
        and idle_seconds >= idle_limit
        and presence.kind is PresenceKind.AVAILABLE
    ):
        presence = Presence(PresenceKind.AWAY, presence.status)
    return presence


def notifications_held(book: StatusBook, sphere: Sphere, now: datetime) -> bool:
    """Notifications of the sphere that is off duty wait until it is on duty again."""
    return book.work_hours.quiet_sphere(now) is sphere
