"""Search over the archive: newest first, a page at a time, snippets for the returned rows only.

Runs on the archive's own connection, i.e. on the engine thread like every other archive call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from aggregator.archive import Archive, StoredMessage, fulltext_search
from aggregator.archive.queries import ArchiveQueries
from aggregator.search.plan import AccountInfo, ConversationInfo, resolve
from aggregator.search.query import SearchError, SearchQuery, parse
from aggregator.search.snippet import Segment, from_marked, has_markers, highlight, plain


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
        self._queries = ArchiveQueries(archive)

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
        rows = fulltext_search.run(self._archive, query, scope, limit=limit, before_id=before_id)
        hits: list[SearchHit] = []
        for row in rows:
            message = row.message
            if row.marked_snippet is None:
                # PostgreSQL: the highlighter runs on the returned rows only.
                segments = highlight(message.body, query.terms) if query.terms else plain(message.body)
            elif has_markers(message.body):
                segments = highlight(message.body, query.terms)  # the body could fake a marker
            else:
                segments = from_marked(row.marked_snippet)
            hits.append(SearchHit(message, segments))
        return hits

    def context(self, message_id: int, n: int = 5) -> Context | None:
        """``message_id`` with ``n`` messages before and after it in its conversation."""
        found = self._archive.get(message_id)
        if found is None:
            return None
        n = max(0, int(n))
        before, after = self._queries.neighbours(found.conversation_id, message_id, n)
        return Context(before=tuple(before), message=found, after=tuple(after))

    def _require_fulltext(self) -> None:
        if not self._archive.has_fulltext:
            raise SearchError(f"this archive has no full-text index ({self._archive.dialect}, schema without it)")

    def _accounts(self) -> list[AccountInfo]:
        return [AccountInfo(a.id, a.address, a.label, a.sphere) for a in self._queries.accounts()]

    def _conversations(self) -> list[ConversationInfo]:
        return [ConversationInfo(c.id, c.account_id, c.kind, c.handle) for c in self._queries.conversations()]
