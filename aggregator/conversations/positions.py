"""Catch-up positions, durable only together with the messages they cover (issue 13).

An adapter that supports ``SupportsResume`` tags messages with the position they complete
(``MessageReceived.position``) and reports positions reached without a message (``PositionReached``).
The inbound pipeline stores a message's position in the message's own transaction; the supervisor
handles an account's events strictly in the order emitted, so a position that comes alone is stored
after everything emitted before it.

One thing can still break "everything before it is stored": an event whose handling FAILED (the archive
raised). From then on the account's positions are held (not stored) until its next connect, which
re-reads the last good positions from the archive and so fetches the lost message again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aggregator.api import AccountId, ResumePosition
from aggregator.archive import Archive

log = logging.getLogger(__name__)


class CatchupPositions:
    def __init__(self, archive: Archive) -> None:
        self._archive = archive
        self._held: set[AccountId] = set()
        self._connected_at: dict[AccountId, datetime] = {}

    def for_connect(self, account_id: AccountId) -> dict[str, str]:
        """The stored positions to resume from; call once every event of the account's previous
        connection has been handled. Lifts a hold: the new catch-up starts before the failed message."""
        self._held.discard(account_id)
        self._connected_at[account_id] = datetime.now(UTC)
        return self._archive.positions(account_id)

    def connected_at(self, account_id: AccountId) -> datetime | None:
        """When the account's current connection asked for its positions: a live message received
        since then is later in the server's order than anything that connection's catch-up brings."""
        return self._connected_at.get(account_id)

    def hold(self, account_id: AccountId) -> None:
        """An event of ``account_id`` could not be stored: its positions stop moving until the next connect."""
        if account_id not in self._held:
            log.warning("%s: a message could not be stored; its catch-up position is held until reconnect", account_id)
        self._held.add(account_id)

    def may_store(self, account_id: AccountId) -> bool:
        return account_id not in self._held

    def save(self, account_id: AccountId, position: ResumePosition) -> None:
        """Stores a position whose messages are already handled (stored, duplicates or held by policy)."""
        if account_id in self._held:
            return
        try:
            self._archive.save_position(account_id, position)
        except Exception:
            self.hold(account_id)
            raise
