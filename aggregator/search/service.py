"""Search over the archive: newest first, a page at a time, snippets for the returned rows only.

Runs on the archive's own connection, i.e. on the engine thread like every other archive call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from aggregator.api import ConversationKind
from aggregator.archive import Archive, StoredMessage
from aggregator.archive.store import MESSAGE_COLUMNS
from aggregator.search.plan import AccountInfo, ConversationInfo, build, resolve
from aggregator.search.query import SearchError, SearchQuery, parse
from aggregator.search.snippet import Segment, from_marked, has_markers, highlight, plain

_COLUMNS = ", ".join(MESSAGE_COLUMNS)


@dataclass(frozen=True, slots=True)
class SearchHit:
    message: StoredMessage
    snippet: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """A message with up to ``n`` messages before and after it in its conversation (oldest first)."""

    before: tuple[StoredMessage, ...]
    message: StoredMessage
    after: tuple[StoredMessage, ...]


class SearchService:
    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    def search(
        self,
        query: SearchQuery | str,
        limit: int = 50,
        before_id: int | None = None,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
    ) -> list[SearchHit]:
        """The newest ``limit`` messages matching ``query`` with ids below ``before_id`` (the next page:
        pass the last hit's id). A string is parsed first (``SearchError`` if it is malformed)."""
        if isinstance(query, str):
            query = parse(query, now=now, tz=tz)
        if query.terms or query.excluded:
            self._require_fulltext()
        # The account and conversation tables are read only when a filter needs them.
        needs_accounts = bool(query.accounts or query.spheres)
        needs_conversations = bool(query.conversations or query.people or query.contacts)
        scope = resolve(
            query,
            self._accounts() if needs_accounts else (),
            self._conversations() if needs_conversations else (),
        )
        if scope.impossible:
            return []
        dialect = self._archive.dialect
        statement = build(query, scope, limit=limit, before_id=before_id, dialect=dialect)
        rows = self._archive.read_rows(statement.sql, statement.params)
        hits: list[SearchHit] = []
        for row in rows:
            message = self._archive.message_from_raw(row)
            if not statement.has_snippet:
                # PostgreSQL: the highlighter runs on the returned rows only.
                segments = highlight(message.body, query.terms) if query.terms else plain(message.body)
            elif has_markers(message.body):
                segments = highlight(message.body, query.terms)  # the body could fake a marker
            else:
                segments = from_marked(row[len(MESSAGE_COLUMNS)])
            hits.append(SearchHit(message, segments))
        return hits

    def context(self, message_id: int, n: int = 5) -> Context | None:
        """``message_id`` with ``n`` messages before and after it in its conversation."""
        found = self._archive.get(message_id)
        if found is None:
            return None
        n = max(0, int(n))
        before = self._archive.read_rows(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",  # noqa: S608
            (found.conversation_id, message_id, n),
        )
        after = self._archive.read_rows(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT ?",  # noqa: S608
            (found.conversation_id, message_id, n),
        )
        return Context(
            before=tuple(self._archive.message_from_raw(r) for r in reversed(before)),
            message=found,
            after=tuple(self._archive.message_from_raw(r) for r in after),
        )

    def _require_fulltext(self) -> None:
        if not self._archive.has_fulltext:
            raise SearchError(f"this archive has no full-text index ({self._archive.dialect}, schema without it)")

    def _accounts(self) -> list[AccountInfo]:
        rows = self._archive.read_rows("SELECT id, address, label, sphere FROM accounts")
        return [AccountInfo(r[0], r[1], r[2] or "", r[3]) for r in rows]

    def _conversations(self) -> list[ConversationInfo]:
        rows = self._archive.read_rows("SELECT id, account_id, kind, handle FROM conversations")
        return [ConversationInfo(r[0], r[1], ConversationKind(r[2]), r[3]) for r in rows]
