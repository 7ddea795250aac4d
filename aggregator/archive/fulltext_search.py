"""The search's SQL: a parsed ``SearchQuery`` and its resolved ``Scope`` as one statement, and running it.

FTS5 on SQLite (``messages_fts``, schema 2), ``messages.body_tsv`` on PostgreSQL (schema 6); see
``aggregator.search.plan`` for how the filters are resolved and why the statement has this shape.
The search service hands a query and a scope to ``run`` and gets messages back, never SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aggregator.archive.migrations.v002_fulltext import FTS_TABLE
from aggregator.archive.records import StoredMessage
from aggregator.archive.store import MESSAGE_COLUMNS, Archive
from aggregator.search.match import any_of, match_expression
from aggregator.search.query import SearchQuery, Term
from aggregator.search.snippet import CLOSE, ELLIPSIS, OPEN, SNIPPET_TOKENS
from aggregator.search.tokens import tokens

#: The most rows one statement returns (a page).
MAX_LIMIT = 1000
#: Exclusions inside the MATCH expression (``(a) NOT (b)``), measured faster than ``rowid NOT IN
#: (SELECT ...)``, which materialises every match of the excluded word first (bench/search.py).
_COLUMNS = ", ".join(f"m.{c}" for c in MESSAGE_COLUMNS)


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


@dataclass(frozen=True, slots=True)
class Row:
    """One match: the message and, on SQLite, its snippet with the markers of ``snippet.py`` (else None)."""

    message: StoredMessage
    marked_snippet: str | None


def run(archive: Archive, query: SearchQuery, scope: Scope, *, limit: int, before_id: int | None) -> list[Row]:
    """The newest ``limit`` matches of ``query`` within ``scope`` below ``before_id``, newest first."""
    statement = build(query, scope, limit=limit, before_id=before_id, dialect=archive.dialect)
    rows = archive.read_rows(statement.sql, statement.params)
    n = len(MESSAGE_COLUMNS)
    return [
        Row(archive.message_from_raw(r), str(r[n]) if statement.has_snippet and r[n] is not None else None)
        for r in rows
    ]


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
        has_file=query.has_file,
        file_names=query.file_names,
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
        has_file=query.has_file,
        file_names=query.file_names,
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
    has_file: bool = False,
    file_names: Sequence[str] = (),
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
    if has_file or file_names:
        sql = "EXISTS (SELECT 1 FROM attachments AS a WHERE a.message_id = m.id"
        if file_names:
            likes = " OR ".join("lower(a.name) LIKE ? ESCAPE '\\'" for _ in file_names)
            sql += f" AND ({likes})"
        add(sql + ")", [f"%{_escape_like(name.lower())}%" for name in file_names])
    return conds, params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
