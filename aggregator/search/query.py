"""The search query language: user text -> a typed ``SearchQuery``. Pure: no SQL here.

    hello world           both words (every word must match), in any order
    "see you tomorrow"    the exact phrase
    meet*                 a word starting with "meet" ("meet"*, "see you tom"* work too)
    -lunch  -"lunch at"   without this word / phrase
    from:NAME             sent by NAME (sender handle or display name; substring, case-insensitive)
    with:PERSON           in a direct conversation with PERSON, or sent by PERSON (substring)
    in:CONVERSATION       in this conversation (room or contact handle, e.g. in:#team; substring)
    account:ID            on this account (its id, address or label)
    sphere:work|personal  on an account of this sphere
    after:DATE            on or after DATE (YYYY-MM-DD, today, yesterday; local time)
    before:DATE           before DATE (so after:2024-03-01 before:2024-03-02 is that day)
    is:sent|is:received   only outgoing / incoming messages
    has:file              only messages that carried a file
    file:NAME             only messages with a file whose name contains NAME (any case)

A value may be quoted: ``from:"Bob Smith"``. The same key given twice means either value
(``from:bob from:carol``); different keys must all hold. Keys are case-insensitive. An unknown
``key:value`` (``http://x``) is a plain word. Nothing the user types is ever full-text syntax:
``AND``, ``OR``, ``NOT``, ``NEAR``, ``^``, ``(`` are words or separators like any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from aggregator.api import AggregatorError, ContactRef, Sphere
from aggregator.archive.records import Direction
from aggregator.search.tokens import tokens


class SearchError(AggregatorError):
    """The query cannot be understood; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word (one token) or a phrase (several, in this order); ``prefix``: the last one is a prefix.

    ``text`` is what the user typed: the index tokenizes it itself (inside quotes), exactly as it
    tokenized the bodies. ``tokens`` is this module's reading of it (never empty), for highlighting.
    """

    text: str
    tokens: tuple[str, ...]
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.tokens) > 1


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    senders: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    conversations: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    spheres: tuple[Sphere, ...] = ()
    directions: tuple[Direction, ...] = ()
    #: Inclusive lower / exclusive upper bound of the message time, UTC.
    after: datetime | None = None
    before: datetime | None = None
    #: Set by ``filters.narrow`` (the log viewer's controls), never typed. Exactly these contacts (not
    #: names to look up): their direct conversations, and what they sent from that account elsewhere.
    contacts: tuple[ContactRef, ...] = ()
    #: Only these account ids (exact; an empty set matches nothing), on top of ``accounts``/``spheres``.
    account_ids: frozenset[str] | None = None
    #: ``has:file``; ``file:NAME`` (substrings of the file name, any case; either one matches).
    has_file: bool = False
    file_names: tuple[str, ...] = ()

    @property
    def has_filters(self) -> bool:
        return bool(
            self.senders
            or self.contacts
            or self.account_ids is not None
            or self.people
            or self.conversations
            or self.accounts
            or self.spheres
            or self.directions
            or self.after is not None
            or self.before is not None
            or self.has_file
            or bool(self.file_names)
        )


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    quoted: bool
    prefix: bool
    negated: bool
    key: str | None = None


_KEY = re.compile(r"([A-Za-z]+):")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SPACE = frozenset(" \t\r\n\f\v\u00a0\u2028\u2029\u3000")


def _pieces(text: str) -> list[_Piece]:
    """Split on whitespace, honouring quotes; an unbalanced quote runs to the end of the text."""
    out: list[_Piece] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in _SPACE or text[i].isspace():
            i += 1
            continue
        negated = False
        if text[i] == "-" and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
        key: str | None = None
        m = _KEY.match(text, i)
        if m and m.group(1).lower() in _FILTERS:
            key, i = m.group(1).lower(), m.end()
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            value, i = text[i + 1 : end], end + 1
            prefix = i < n and text[i] == "*"
            while i < n and text[i] == "*":
                i += 1
            out.append(_Piece(value, True, prefix, negated, key))
            continue
        start = i
        while i < n and not (text[i] in _SPACE or text[i].isspace()):
            i += 1
        word = text[start:i]
        if key is not None:
            out.append(_Piece(word, False, False, negated, key))
            continue
        stripped = word.rstrip("*")
        out.append(_Piece(stripped, False, stripped != word, negated))
    return out


# -- filter values -------------------------------------------------------------------------------


def _local_midnight(day: date, tz: tzinfo | None) -> datetime:
    naive = datetime(day.year, day.month, day.day)
    return naive.astimezone() if tz is None else naive.replace(tzinfo=tz)


def _parse_day(key: str, value: str, today: date) -> date:
    lowered = value.lower()
    if lowered == "today":
        return today
    if lowered == "yesterday":
        return today - timedelta(days=1)
    m = _DATE.fullmatch(value)
    if not m:
        raise SearchError(f"{key}:{value}: a date is YYYY-MM-DD, 'today' or 'yesterday'")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise SearchError(f"{key}:{value}: no such date") from None


@dataclass(frozen=True, slots=True)
class _Clock:
    today: date
    tz: tzinfo | None


def _add(query: SearchQuery, key: str, value: str, clock: _Clock) -> SearchQuery:
    if not value.strip():
        raise SearchError(f"{key}: needs a value, e.g. {_FILTERS[key]}")
    return _FILTER_APPLY[key](query, key, value.strip(), clock)


def _sphere(q: SearchQuery, key: str, value: str, _c: _Clock) -> SearchQuery:
    try:
        sphere = Sphere(value.lower())
    except ValueError:
        raise SearchError(f"{key}:{value}: the sphere is 'work' or 'personal'") from None
    return replace(q, spheres=(*q.spheres, sphere))


def _is(q: SearchQuery, key: str, value: str, _c: _Clock) -> SearchQuery:
    lowered = value.lower()
    if lowered == "sent":
        return replace(q, directions=(*q.directions, Direction.OUT))
    if lowered == "received":
        return replace(q, directions=(*q.directions, Direction.IN))
    raise SearchError(f"{key}:{value}: use is:sent or is:received")


def _has(q: SearchQuery, key: str, value: str, _c: _Clock) -> SearchQuery:
    if value.lower() in {"file", "files", "attachment"}:
        return replace(q, has_file=True)
    raise SearchError(f"{key}:{value}: use has:file")


def _file(q: SearchQuery, _key: str, value: str, _c: _Clock) -> SearchQuery:
    return replace(q, has_file=True, file_names=(*q.file_names, value))


def _after(q: SearchQuery, key: str, value: str, c: _Clock) -> SearchQuery:
    bound = _local_midnight(_parse_day(key, value, c.today), c.tz)
    return replace(q, after=bound if q.after is None else max(q.after, bound))


def _before(q: SearchQuery, key: str, value: str, c: _Clock) -> SearchQuery:
    bound = _local_midnight(_parse_day(key, value, c.today), c.tz)
    return replace(q, before=bound if q.before is None else min(q.before, bound))


def _from(q: SearchQuery, _key: str, value: str, _c: _Clock) -> SearchQuery:
    return replace(q, senders=(*q.senders, value))


def _with(q: SearchQuery, _key: str, value: str, _c: _Clock) -> SearchQuery:
    return replace(q, people=(*q.people, value))


def _in(q: SearchQuery, _key: str, value: str, _c: _Clock) -> SearchQuery:
    return replace(q, conversations=(*q.conversations, value))


def _account(q: SearchQuery, _key: str, value: str, _c: _Clock) -> SearchQuery:
    return replace(q, accounts=(*q.accounts, value))


_FILTERS: dict[str, str] = {
    "from": "from:bob",
    "with": "with:alice@example.org",
    "in": "in:#team",
    "account": "account:work",
    "sphere": "sphere:work",
    "after": "after:2024-03-01",
    "before": "before:2024-03-01",
    "is": "is:sent",
    "has": "has:file",
    "file": "file:report",
}
_FILTER_APPLY: dict[str, Callable[[SearchQuery, str, str, _Clock], SearchQuery]] = {
    "from": _from,
    "with": _with,
    "in": _in,
    "account": _account,
    "sphere": _sphere,
    "after": _after,
    "before": _before,
    "is": _is,
    "has": _has,
    "file": _file,
}


# -- the parser ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    terms: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)


def parse(
    text: str, *, now: datetime | None = None, tz: tzinfo | None = None, alone: bool = True
) -> SearchQuery:
    """Parse ``text``. ``tz`` is the user's time zone for dates (default: the system's local zone).

    Raises ``SearchError`` (and nothing else) when the query is empty or a filter value is bad.
    ``alone=False``: filters from elsewhere will be added, so only excluded words (or nothing) is fine.
    """
    current = now or datetime.now(tz)
    clock = _Clock(today=(current.astimezone(tz) if current.tzinfo else current).date(), tz=tz)
    query = SearchQuery()
    built = _Builder()
    for piece in _pieces(text):
        if piece.key is not None:
            if piece.negated:
                raise SearchError(f"-{piece.key}:{piece.text}: a filter cannot be negated")
            query = _add(query, piece.key, piece.text, clock)
            continue
        found = tuple(tokens(piece.text))
        if not found:
            continue  # only punctuation or syntax characters: nothing the index could match
        term = Term(piece.text, found, prefix=piece.prefix)
        (built.excluded if piece.negated else built.terms).append(term)
    query = replace(query, terms=tuple(dict.fromkeys(built.terms)), excluded=tuple(dict.fromkeys(built.excluded)))
    if query.after is not None and query.before is not None and query.after >= query.before:
        raise SearchError("after: must be a day before before:; no message can match")
    if alone and not query.terms and not query.has_filters:
        if query.excluded:
            raise SearchError("give at least one word or filter besides the excluded words")
        raise SearchError('nothing to search for: give some words, a "phrase" or a filter such as from:NAME')
    return query
