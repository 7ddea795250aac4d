"""Filters chosen with controls (the log viewer's person, account, sphere and date fields) on top of a
typed query. Pure, like ``query``: every filter narrows what the typed text selects (they all hold).

A person is given as its contacts (exact account and handle), an account by its id: nothing chosen
from a list is looked up again by name. Days are inclusive, in the user's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo

from aggregator.api import ContactRef, Sphere
from aggregator.search.query import SearchError, SearchQuery, parse


@dataclass(frozen=True, slots=True)
class SearchFilters:
    contacts: tuple[ContactRef, ...] = ()  # a person's contacts; empty: anyone
    account_id: str | None = None
    sphere: Sphere | None = None
    first_day: date | None = None  # inclusive
    last_day: date | None = None  # inclusive

    @property
    def empty(self) -> bool:
        return self == SearchFilters()


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    naive = datetime(day.year, day.month, day.day)
    return naive.astimezone() if tz is None else naive.replace(tzinfo=tz)


def narrow(query: SearchQuery, filters: SearchFilters, *, tz: tzinfo | None = None) -> SearchQuery:
    """``query`` restricted by ``filters``. Raises ``SearchError`` when the days leave no time at all."""
    if filters.first_day is not None and filters.last_day is not None and filters.first_day > filters.last_day:
        raise SearchError(f"the first day ({filters.first_day}) is after the last day ({filters.last_day})")
    out = query
    if filters.contacts:
        out = replace(out, contacts=tuple(dict.fromkeys((*out.contacts, *filters.contacts))))
    if filters.account_id is not None:
        chosen = frozenset({filters.account_id})
        out = replace(out, account_ids=chosen if out.account_ids is None else out.account_ids & chosen)
    if filters.sphere is not None:
        # A typed sphere: that disagrees means nothing can match (an empty account set).
        if out.spheres and filters.sphere not in out.spheres:
            out = replace(out, account_ids=frozenset())
        out = replace(out, spheres=(filters.sphere,))
    if filters.first_day is not None:
        bound = _midnight(filters.first_day, tz)
        out = replace(out, after=bound if out.after is None else max(out.after, bound))
    if filters.last_day is not None:
        bound = _midnight(filters.last_day + timedelta(days=1), tz)
        out = replace(out, before=bound if out.before is None else min(out.before, bound))
    if out.after is not None and out.before is not None and out.after >= out.before:
        raise SearchError("the dates chosen and the dates typed (after:, before:) leave no day to search")
    return out


def filtered_query(
    text: str, filters: SearchFilters, *, now: datetime | None = None, tz: tzinfo | None = None
) -> SearchQuery:
    """The typed ``text`` (may be blank when a filter is set) narrowed by ``filters``.

    Raises ``SearchError`` for a malformed text, or when there is nothing at all to search for.
    """
    if filters.empty:
        return parse(text, now=now, tz=tz)
    return narrow(parse(text, now=now, tz=tz, alone=False), filters, tz=tz)
