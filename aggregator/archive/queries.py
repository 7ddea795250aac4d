"""Typed reads over the whole archive for the services that are not the message pipeline: search's
account and conversation tables and its context, export's paging, the counts of ``aggregator stats``,
the accounts the command line resolves, and the checks and deletions of other services (a message sent
today, the messages received while a conversation was not logged).

Every statement is built here from fixed fragments, every value is a parameter, and each call is one
archive transaction (``Archive.read_rows``, ``Archive._execute_write``): callers never see SQL or a
connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aggregator.api import AccountId, ConversationKind, Sphere
from aggregator.archive.records import Direction, StoredMessage
from aggregator.archive.store import MESSAGE_COLUMNS, Archive
from aggregator.archive.types import to_micros

_COLUMNS = ", ".join(MESSAGE_COLUMNS)


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account as the archive knows it (its row in ``accounts``)."""

    id: AccountId
    protocol: str
    address: str
    label: str
    sphere: str


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: int
    account_id: AccountId
    kind: ConversationKind
    handle: str


class ArchiveQueries:
    """The archive's typed reads for search, export, stats and the command line."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    # -- accounts and conversations -----------------------------------------------------------------

    def accounts(self, sphere: Sphere | None = None) -> list[AccountRecord]:
        """Every account stored in the archive (of ``sphere``), in id order."""
        sql = "SELECT id, protocol, address, label, sphere FROM accounts"
        params: tuple[object, ...] = ()
        if sphere is not None:
            sql += " WHERE sphere = ?"
            params = (sphere.value,)
        rows = self._archive.read_rows(sql + " ORDER BY id", params)
        return [AccountRecord(str(r[0]), str(r[1]), str(r[2]), str(r[3] or ""), str(r[4])) for r in rows]

    def conversations(self) -> list[ConversationRecord]:
        rows = self._archive.read_rows("SELECT id, account_id, kind, handle FROM conversations")
        return [ConversationRecord(int(r[0]), str(r[1]), ConversationKind(r[2]), str(r[3])) for r in rows]

    # -- messages -------------------------------------------------------------------------------------

    def count(self) -> int:
        return self._archive.count_messages()

    def page_after(self, after_id: int, limit: int) -> list[StoredMessage]:
        """The oldest ``limit`` messages with ids above ``after_id``, oldest first (export's paging)."""
        rows = self._archive.read_rows(
            f"SELECT {_COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?",  # noqa: S608 (fixed columns)
            (after_id, limit),
        )
        return [self._archive.message_from_raw(r) for r in rows]

    def by_ids(self, ids: Sequence[int]) -> list[StoredMessage]:
        """The stored messages among ``ids``, oldest first (a caller keeps the list to a page)."""
        if not ids:
            return []
        rows = self._archive.read_rows(
            f"SELECT {_COLUMNS} FROM messages WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id",  # noqa: S608
            list(ids),
        )
        return [self._archive.message_from_raw(r) for r in rows]

    def neighbours(
        self, conversation_id: int, message_id: int, n: int
    ) -> tuple[list[StoredMessage], list[StoredMessage]]:
        """Up to ``n`` messages of the conversation before and after ``message_id``, each oldest first."""
        before = self._archive.read_rows(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?",  # noqa: S608
            (conversation_id, message_id, n),
        )
        after = self._archive.read_rows(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT ?",  # noqa: S608
            (conversation_id, message_id, n),
        )
        return (
            [self._archive.message_from_raw(r) for r in reversed(before)],
            [self._archive.message_from_raw(r) for r in after],
        )

    def sent_since(self, conversation_id: int, body: str, since: datetime) -> bool:
        """Whether an outgoing ``body`` (sent or queued) is stored in the conversation since ``since``."""
        rows = self._archive.read_rows(
            "SELECT 1 FROM messages WHERE conversation_id = ? AND direction = ? AND body = ? AND sent_at >= ? LIMIT 1",
            (conversation_id, int(Direction.OUT), body, to_micros(since)),
        )
        return bool(rows)

    # -- counts (``aggregator stats``) ------------------------------------------------------------------

    def counts_per_account(self) -> list[tuple[str, int]]:
        """(account id, messages) for every account with messages, by account id."""
        rows = self._archive.read_rows("SELECT account_id, count(*) FROM messages GROUP BY account_id ORDER BY 1")
        return [(str(a), int(n)) for a, n in rows]

    def id_range(self) -> tuple[int, int] | None:
        """The smallest and largest message id; None when the archive holds no message."""
        ((lo, hi),) = self._archive.read_rows("SELECT min(id), max(id) FROM messages")
        return None if lo is None or hi is None else (int(lo), int(hi))

    def count_in_id_range(self, start: int, end: int) -> int:
        """How many messages have ``start <= id < end`` (ids are time-ordered: a time range)."""
        ((n,),) = self._archive.read_rows("SELECT count(*) FROM messages WHERE id >= ? AND id < ?", (start, end))
        return int(n)

    # -- deleting -----------------------------------------------------------------------------------

    def delete_received(self, account_id: AccountId, start: datetime, end: datetime, *, batch: int) -> int:
        """Delete every message of ``account_id`` received in ``[start, end)``, ``batch`` at a time (each
        batch its own transaction, index entries included); returns how many went."""
        select_ids = (
            "SELECT id FROM messages WHERE account_id = ? AND received_at >= ? AND received_at < ? "  # noqa: S608
            f"LIMIT {int(batch)}"
        )
        params = (account_id, to_micros(start), to_micros(end))
        deleted = 0
        while ids := [int(r[0]) for r in self._archive.read_rows(select_ids, params)]:
            self._archive._execute_write(f"DELETE FROM messages WHERE id IN ({', '.join('?' * len(ids))})", ids)  # noqa: S608
            deleted += len(ids)
        return deleted
