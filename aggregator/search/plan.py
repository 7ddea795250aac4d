"""From a parsed ``SearchQuery`` to one SQL statement. Pure: the caller supplies the (small) account
and conversation tables; nothing here touches a database.

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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aggregator.api import ConversationKind
from aggregator.archive.ids import datetime_ms, id_floor
from aggregator.archive.migrations.v002_fulltext import FTS_TABLE
from aggregator.archive.store import MESSAGE_COLUMNS
from aggregator.search.match import any_of, match_expression
from aggregator.search.query import SearchQuery, Term
from aggregator.search.snippet import CLOSE, ELLIPSIS, OPEN, SNIPPET_TOKENS
from aggregator.search.tokens import fold, tokens

MAX_LIMIT = 1000
#: Exclusions inside the MATCH expression (``(a) NOT (b)``), measured faster than ``rowid NOT IN
#: (SELECT ...)``, which materialises every match of the excluded word first (bench/search.py).
_COLUMNS = ", ".join(f"m.{c}" for c in MESSAGE_COLUMNS)


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


@dataclass(frozen=True, slots=True)
class Scope:
    """The query's filters resolved against the archive's accounts and conversations."""

    conversation_ids: frozenset[int] | None = None
    account_ids: frozenset[str] | None = None
    people: tuple[str, ...] = ()
    people_conversation_ids: frozenset[int] = frozenset()
    contacts: tuple[tuple[str, str], ...] = ()  # (account id, handle), exactly
    contact_conversation_ids: frozenset[int] = frozenset()
    senders: tuple[str, ...] = ()
    directions: tuple[int, ...] = ()
    min_id: int | None = None
    max_id: int | None = None  # exclusive

    @property
    def impossible(self) -> bool:
        return (
            self.conversation_ids == frozenset()
            or self.account_ids == frozenset()
            or (self.min_id is not None and self.max_id is not None and self.min_id >= self.max_id)
        )


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: tuple[Any, ...]
    has_snippet: bool


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


def _in(column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
    ordered = sorted(values)
    return f"{column} IN ({', '.join('?' * len(ordered))})", ordered


def _name_matches(patterns: Sequence[str], with_name: bool) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for p in patterns:
        parts.append("instr(aggregator_fold(m.sender), ?) > 0")
        params.append(p)
        if with_name:
            parts.append("instr(aggregator_fold(m.sender_name), ?) > 0")
            params.append(p)
    return " OR ".join(parts), params


def _contact_matches(scope: Scope) -> tuple[str, list[Any]]:
    """In a direct conversation with one of ``scope.contacts``, or sent by one of them (exact account
    and handle, e.g. in a room); the same SQL on both dialects."""
    parts: list[str] = []
    params: list[Any] = []
    if scope.contact_conversation_ids:
        sql, values = _in("m.conversation_id", scope.contact_conversation_ids)
        parts.append(sql)
        params.extend(values)
    for account_id, handle in scope.contacts:
        parts.append("(m.account_id = ? AND m.sender = ?)")
        params.extend((account_id, handle))
    return f"({' OR '.join(parts)})", params


def _lexeme(token: str) -> str:
    """One quoted tsquery lexeme: nothing inside can be an operator (``'`` doubled, ``\\`` escaped)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(term: Term) -> str:
    """A term as ``to_tsquery('simple', ...)`` text: its words lower-cased (not accent-folded: the
    'simple' configuration keeps accents), each quoted, ``<->`` between the words of a phrase, ``:*``
    after a prefix."""
    words = [w.lower() for w in tokens(term.text.replace("\x00", " "))] or [t for t in term.tokens]
    parts = [_lexeme(w) for w in words]
    if term.prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def _ts_function(term: Term) -> str:
    """A word or phrase goes through PostgreSQL's own parser (``phraseto_tsquery``), exactly as the
    bodies did, so e.g. an address is one lexeme on both sides; a prefix is built as tsquery text."""
    return "to_tsquery('simple', ?)" if term.prefix else "phraseto_tsquery('simple', ?)"


def _ts_argument(term: Term) -> str:
    return tsquery_text(term) if term.prefix else term.text.replace("\x00", " ")


def _pg_name_matches(patterns: Sequence[str], with_name: bool) -> tuple[str, list[Any]]:
    """PostgreSQL has no ``aggregator_fold``: ``lower()`` on both sides, so case is ignored but accents
    are not (``from:jurgen`` does not find "Jürgen" there; type the accent)."""
    parts: list[str] = []
    params: list[Any] = []
    for p in patterns:
        parts.append("strpos(lower(m.sender), ?) > 0")
        params.append(p.lower())
        if with_name:
            parts.append("strpos(lower(m.sender_name), ?) > 0")
            params.append(p.lower())
    return " OR ".join(parts), params


def build(
    query: SearchQuery,
    scope: Scope,
    *,
    limit: int = 50,
    before_id: int | None = None,
    dialect: str = "sqlite",
) -> Statement:
    """The statement for one page: newest first, at most ``limit`` rows, ids below ``before_id``.

    ``dialect`` ``postgresql``: the same filters over ``messages.body_tsv`` (schema v6); no snippet in
    the SQL (``has_snippet`` False), the caller highlights the returned rows itself.
    """
    if dialect == "postgresql":
        return _build_postgresql(query, scope, limit=limit, before_id=before_id)
    limit = max(1, min(int(limit), MAX_LIMIT))
    fulltext = bool(query.terms)
    id_column = f"{FTS_TABLE}.rowid" if fulltext else "m.id"
    conds, params = _scope_filters(
        scope,
        senders=scope.senders,
        people=scope.people,
        before_id=before_id,
        id_column=id_column,
        name_matches=_name_matches,
    )

    if fulltext:
        where = " AND ".join([f"{FTS_TABLE} MATCH ?", *conds])
        sql = (
            f"SELECT {_COLUMNS}, snippet({FTS_TABLE}, 0, ?, ?, ?, {SNIPPET_TOKENS}) "  # noqa: S608 (fixed fragments)
            f"FROM {FTS_TABLE} CROSS JOIN messages AS m ON m.id = {FTS_TABLE}.rowid "
            f"WHERE {where} ORDER BY {FTS_TABLE}.rowid DESC LIMIT ?"
        )
        match = match_expression(query.terms, query.excluded)
        return Statement(sql, (OPEN, CLOSE, ELLIPSIS, match, *params, limit), has_snippet=True)
    if query.excluded:
        conds.append(
            f"NOT EXISTS (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? AND {FTS_TABLE}.rowid = m.id)"  # noqa: S608
        )
        params.append(any_of(query.excluded))
    where = " AND ".join(conds) or "1"
    sql = f"SELECT {_COLUMNS} FROM messages AS m WHERE {where} ORDER BY m.id DESC LIMIT ?"  # noqa: S608
    return Statement(sql, (*params, limit), has_snippet=False)


def _build_postgresql(query: SearchQuery, scope: Scope, *, limit: int, before_id: int | None) -> Statement:
    limit = max(1, min(int(limit), MAX_LIMIT))
    conds: list[str] = []
    params: list[Any] = []

    def add(sql: str, values: Iterable[Any] = ()) -> None:
        conds.append(sql)
        params.extend(values)

    for term in query.terms:
        add(f"m.body_tsv @@ {_ts_function(term)}", [_ts_argument(term)])
    for term in query.excluded:
        add(f"NOT (m.body_tsv @@ {_ts_function(term)})", [_ts_argument(term)])
    scope_conds, scope_params = _scope_filters(
        scope,
        senders=query.senders,
        people=query.people,
        before_id=before_id,
        id_column="m.id",
        name_matches=_pg_name_matches,
    )
    conds.extend(scope_conds)
    params.extend(scope_params)
    where = " AND ".join(conds) or "TRUE"
    sql = f"SELECT {_COLUMNS} FROM messages AS m WHERE {where} ORDER BY m.id DESC LIMIT ?"  # noqa: S608
    return Statement(sql, (*params, limit), has_snippet=False)


NameMatcher = Callable[[Sequence[str], bool], tuple[str, list[Any]]]


def _scope_filters(
    scope: Scope,
    *,
    senders: Sequence[str],
    people: Sequence[str],
    before_id: int | None,
    id_column: str,
    name_matches: NameMatcher,
) -> tuple[list[str], list[Any]]:
    """The conditions every dialect shares (ids, conversations, accounts, direction, names, contacts);
    ``name_matches`` is the dialect's substring test, ``senders``/``people`` the patterns it gets."""
    conds: list[str] = []
    params: list[Any] = []

    def add(sql: str, values: Iterable[Any] = ()) -> None:
        conds.append(sql)
        params.extend(values)

    upper = [b for b in (scope.max_id, before_id) if b is not None]
    if upper:
        add(f"{id_column} < ?", [min(upper)])
    if scope.min_id is not None:
        add(f"{id_column} >= ?", [scope.min_id])
    if scope.conversation_ids is not None:
        add(*_in("m.conversation_id", scope.conversation_ids))
    if scope.account_ids is not None:
        add(*_in("m.account_id", scope.account_ids))
    if scope.directions:
        add(*_in("m.direction", scope.directions))
    if senders:
        sql, values = name_matches(senders, True)
        add(f"({sql})", values)
    if people:
        sql, values = name_matches(people, False)
        if scope.people_conversation_ids:
            in_sql, in_values = _in("m.conversation_id", scope.people_conversation_ids)
            sql, values = f"{in_sql} OR {sql}", [*in_values, *values]
        add(f"({sql})", values)
    if scope.contacts:
        add(*_contact_matches(scope))
    return conds, params
