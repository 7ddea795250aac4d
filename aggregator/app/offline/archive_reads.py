"""Reading the archive of a profile no instance runs: search, statistics and export (the window's
search is ``aggregator.app.search_rows``; these are the same services, without a running core)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from aggregator.app.offline.profile import OfflineProfile
from aggregator.archive.records import StoredMessage
from aggregator.search import SearchHit, SearchQuery, SearchService, parse
from aggregator.search.export import ExportFormat, Selection, export, export_title
from aggregator.search.query import __doc__ as QUERY_HELP
from aggregator.search.snippet import marked_text
from aggregator.search.stats import ArchiveStats, archive_stats

__all__ = [
    "QUERY_HELP",
    "ArchiveStats",
    "ExportFormat",
    "SearchHit",
    "SearchQuery",
    "export_archive",
    "marked_text",
    "parse",
    "search",
    "stats",
]


def search(profile: OfflineProfile, query: SearchQuery, limit: int, before_id: int | None) -> list[SearchHit]:
    """The messages matching ``query``, newest first (none without an archive)."""
    if not profile.has_archive():
        return []
    with profile:
        return SearchService(profile.archive).search(query, limit=limit, before_id=before_id)


def stats(profile: OfflineProfile) -> ArchiveStats:
    """How many messages the archive holds, per account, sphere and year (all zero without one)."""
    if not profile.has_archive():
        return ArchiveStats(0, (), (), ())
    with profile:
        return archive_stats(profile.archive)


class _Shown(Protocol):
    def advance(self, n: int = 1) -> None: ...


def export_archive(
    profile: OfflineProfile,
    query: SearchQuery | None,
    text: str,
    target: Path,
    fmt: ExportFormat,
    *,
    shape: Callable[[StoredMessage], dict[str, Any]],
    progress: Callable[[int], AbstractContextManager[_Shown]],
) -> int:
    """Write the archive (or the matches of ``query``, written ``text``) to ``target``, oldest first;
    returns how many messages it holds. ``progress(total)`` shows the export advance."""
    title = export_title(text)
    if not profile.has_archive():
        return export(Selection.empty(), target, fmt, shape=shape, title=title)
    with profile:
        selection = Selection(profile.archive, query)
        with progress(selection.count()) as shown:
            return export(selection, target, fmt, shape=shape, title=title, on_message=shown.advance)
