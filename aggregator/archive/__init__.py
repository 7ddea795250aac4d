"""The conversation archive: every message, every status event, on SQLite (or PostgreSQL by URL)."""

from aggregator.archive.records import Direction, StatusKind, StoredMessage
from aggregator.archive.store import Archive

__all__ = ["Archive", "Direction", "StatusKind", "StoredMessage"]
