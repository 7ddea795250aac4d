"""The conversation archive: every message, every status event, on SQLite (or PostgreSQL by URL).

All SQL lives in this package. Other services get typed methods (``Archive``), a repository of their
own (``roster_tables.RosterTables``, ``policy_events.PolicyEventTable``), ``queries.ArchiveQueries``
(search, export, stats, the command line) or ``fulltext_search.run``; never SQL, never the connection
(the import-linter contract "SQL stays in the archive" and ``tests/core/test_archive_boundary.py``).
"""

from aggregator.archive.records import Direction, ImportResult, NewMessage, Placement, StatusKind, StoredMessage
from aggregator.archive.store import Archive

__all__ = ["Archive", "Direction", "ImportResult", "NewMessage", "Placement", "StatusKind", "StoredMessage"]
