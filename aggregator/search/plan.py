"""From a parsed ``SearchQuery`` to the scope of one SQL statement. Pure: the caller supplies the
(small) account and conversation tables; nothing here touches a database. The statement itself is
written in the archive (``aggregator.archive.fulltext_search``: ``build``, re-exported here).

Filters on accounts and conversations are resolved here, in Python, to id lists, so the statement
only ever filters ``messages`` columns: FTS5 stays the outer loop and walks its index backwards in
rowid (= time) order, stopping after ``limit`` rows. Dates become message-id bounds (ids are
``ms << 12 | seq``), which FTS5 applies inside that walk.

For the filters on names (``from:``, ``with:``, ``in:``, ``account:``) a value that equals a handle,
address or label (ignoring case and accents) selects exactly those; otherwise every one containing it.

On PostgreSQL (``build(..., dialect="postgresql")``) the same filters apply to ``messages.body_tsv``
(schema 6): each word or phrase is ``phraseto_tsquery('simple', ?)`` (PostgreSQL's parser, as for the
bodies), a prefix ``to_tsquery('simple', ?)`` of quoted lexemes with ``:*``, an exclusion ``NOT (...)``;
the primary key is walked newest first (``ORDER BY id DESC LIMIT``), and the caller highlights the
returned rows. Sender names are compared with ``lower()``: case-insensitive, accent-sensitive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aggregator.api import ConversationKind
from aggregator.archive.fulltext_search import MAX_LIMIT, Scope, Statement, build
from aggregator.archive.ids import datetime_ms, id_floor
from aggregator.search.query import SearchQuery
from aggregator.search.tokens import fold

__all__ = ["MAX_LIMIT", "AccountInfo", "ConversationInfo", "Scope", "Statement", "build", "handle_names", "resolve"]


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: str
    address: str
    label: str
    sphere: str


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    id: int
    account_id: str
    kind: ConversationKind
    handle: str


def _pick(value: str, candidates: Iterable[tuple[Sequence[str], Any]]) -> set[Any]:
    """Ids whose names equal ``value`` (folded), or else contain it."""
    wanted = fold(value)
    listed = [(tuple(fold(n) for n in names if n), key) for names, key in candidates]
    exact = {key for names, key in listed if wanted in names}
    return exact or {key for names, key in listed if any(wanted in n for n in names)}


def handle_names(handle: str) -> tuple[str, ...]:
    """A handle and its local part (``bob`` of ``bob@example.org``, ``@bob:example.org``, ``#team``),
    so that ``with:bob`` means exactly bob, not every handle containing "bob"."""
    local = handle.lstrip("@#!+&").split("@", 1)[0].split(":", 1)[0]
    return (handle, local) if local and local != handle else (handle,)


def resolve(query: SearchQuery, accounts: Sequence[AccountInfo], conversations: Sequence[ConversationInfo]) -> Scope:
    account_ids: set[str] | None = None
    if query.accounts:
        named = [((a.id, a.address, a.label), a.id) for a in accounts]
        account_ids = set().union(*(_pick(v, named) for v in query.accounts))
    if query.spheres:
        in_sphere = {a.id for a in accounts if a.sphere in {s.value for s in query.spheres}}
        account_ids = in_sphere if account_ids is None else account_ids & in_sphere
    if query.account_ids is not None:
        account_ids = set(query.account_ids) if account_ids is None else account_ids & query.account_ids
    conversation_ids: set[int] | None = None
    if query.conversations:
        conversation_ids = set().union(
            *(_pick(v, ((handle_names(c.handle), c.id) for c in conversations)) for v in query.conversations)
        )
    directs = [c for c in conversations if c.kind is ConversationKind.DIRECT]
    people_convs: set[int] = set()
    for person in query.people:
        people_convs |= _pick(person, ((handle_names(c.handle), c.id) for c in directs))
    wanted = {(r.account_id, r.handle) for r in query.contacts}
    contact_convs = {c.id for c in directs if (c.account_id, c.handle) in wanted}
    min_id = None if query.after is None else id_floor(max(datetime_ms(query.after), 0))
    max_id = None if query.before is None else id_floor(max(datetime_ms(query.before), 0))
    return Scope(
        conversation_ids=None if conversation_ids is None else frozenset(conversation_ids),
        account_ids=None if account_ids is None else frozenset(account_ids),
        people=tuple(fold(p) for p in query.people),
        people_conversation_ids=frozenset(people_convs),
        contacts=tuple(sorted(wanted)),
        contact_conversation_ids=frozenset(contact_convs),
        senders=tuple(fold(s) for s in query.senders),
        directions=tuple(sorted({int(d) for d in query.directions})),
        min_id=min_id,
        max_id=max_id,
    )
