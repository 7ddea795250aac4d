"""The conversation archive: every message, every status event, on SQLite (or PostgreSQL by URL)."""

from aggregator.archive.records import Direction, ImportResult, NewMessage, Placement, StatusKind, StoredMessage
from aggregator.archive.store import Archive

__all__ = ["Archive", "Direction", "ImportResult", "NewMessage", "Placement", "StatusKind", "StoredMessage"]
