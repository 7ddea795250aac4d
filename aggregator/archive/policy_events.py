"""The ``policy_events`` table (schema v5): the record of the policy's decisions.

The policy log (``aggregator.policy.log``) gets a ``PolicyEventTable`` and never a connection. Each
call is one archive transaction (``Archive._reading`` / ``Archive._writing``): a write commits before it
returns, any failure rolls it back, and a full disk is raised as ``ArchiveStorageError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select

from aggregator.archive.migrations.v005_policy_events import POLICY_EVENTS as _T

if TYPE_CHECKING:
    from aggregator.archive.store import Archive


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One decision as stored (``verdict`` is the ``Verdict`` value)."""

    id: int
    at: datetime
    action: str
    verdict: str
    rule: str
    reason: str
    account_id: str | None
    conversation: str | None
    content: str | None


@dataclass(frozen=True, slots=True)
class NewPolicyRecord:
    """A decision to store; ``ref`` (the message's idempotency key, ...) stores it once per account and rule."""

    at: datetime
    action: str
    verdict: str
    rule: str
    reason: str
    account_id: str | None = None
    conversation: str | None = None
    content: str | None = None
    ref: str | None = None


class PolicyEventTable:
    """Reads and writes ``policy_events`` on ``archive``'s connection and transactions."""

    def __init__(self, archive: Archive) -> None:
        self._archive = archive

    def exists(self) -> bool:
        """Whether the archive has the table (schema 5 or later)."""
        with self._archive._reading() as conn:
            return bool(inspect(conn).has_table(_T.name))

    def add(self, record: NewPolicyRecord) -> bool:
        """Store ``record``, unless one with the same account, ``ref`` and rule is stored already (in the
        same transaction). Returns whether it was stored."""
        with self._archive._writing() as conn:
            if record.ref is not None:
                seen = conn.execute(
                    select(_T.c.id).where(
                        _T.c.account_id == record.account_id, _T.c.ref == record.ref, _T.c.rule == record.rule
                    )
                ).first()
                if seen is not None:
                    return False
            conn.execute(
                _T.insert().values(
                    at=record.at,
                    action=record.action,
                    verdict=record.verdict,
                    rule=record.rule,
                    reason=record.reason,
                    account_id=record.account_id,
                    conversation=record.conversation,
                    content=record.content,
                    ref=record.ref,
                )
            )
        return True

    def newest(self, *, limit: int, account_id: str | None = None) -> list[PolicyRecord]:
        """The newest ``limit`` records (of ``account_id``), oldest first."""
        query = select(_T).order_by(_T.c.id.desc()).limit(limit)
        if account_id is not None:
            query = query.where(_T.c.account_id == account_id)
        with self._archive._reading() as conn:
            found = conn.execute(query).all()
        return [
            PolicyRecord(r.id, r.at, r.action, r.verdict, r.rule, r.reason, r.account_id, r.conversation, r.content)
            for r in reversed(found)
        ]
