"""The record of policy decisions (``policy_events`` in the archive, schema v5)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, inspect, select

from aggregator.archive import Archive
from aggregator.archive.migrations.v005_policy_events import POLICY_EVENTS as _T
from aggregator.policy.engine import Decision, PolicyEvent, Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    id: int
    at: datetime
    action: str
    verdict: str
    rule: str
    reason: str
    account_id: str | None
    conversation: str | None
    content: str | None


class PolicyLog:
    """Writes every ``PolicyEvent`` to the archive; reads them back for ``aggregator policy log``.

    While the archive has no ``policy_events`` table (an archive older than schema v5 opened by a
    client that cannot upgrade it yet), events are kept in memory for this run and a warning is logged.
    """

    def __init__(self, archive: Archive) -> None:
        self._archive = archive
        conn = archive.connection
        self._stored = inspect(conn).has_table(_T.name)
        conn.commit()
        self._memory: list[PolicyRecord] = []
        if not self._stored:
            log.info("The archive has no policy_events table (schema < 5); policy decisions are kept for this run only")

    @property
    def persistent(self) -> bool:
        return self._stored

    def record(self, event: PolicyEvent) -> None:
        d = event.decision
        if not self._stored:
            self._memory.append(
                PolicyRecord(
                    len(self._memory) + 1,
                    event.at,
                    event.action,
                    d.verdict.value,
                    d.rule,
                    d.reason,
                    event.account_id,
                    event.conversation,
                    event.content,
                )
            )
            return
        conn = self._archive.connection
        try:
            if event.ref is not None:
                seen = conn.execute(
                    select(_T.c.id).where(
                        and_(_T.c.account_id == event.account_id, _T.c.ref == event.ref, _T.c.rule == d.rule)
                    )
                ).first()
                if seen is not None:
                    return
            conn.execute(
                _T.insert().values(
                    at=event.at,
                    action=event.action,
                    verdict=d.verdict.value,
                    rule=d.rule,
                    reason=d.reason,
                    account_id=event.account_id,
                    conversation=event.conversation,
                    content=event.content,
                    ref=event.ref,
                )
            )
        finally:
            conn.commit()

    def records(self, *, limit: int = 100, account_id: str | None = None) -> list[PolicyRecord]:
        """The newest ``limit`` events, oldest first."""
        if not self._stored:
            rows = [r for r in self._memory if account_id is None or r.account_id == account_id]
            return rows[-limit:]
        conn = self._archive.connection
        query = select(_T).order_by(_T.c.id.desc()).limit(limit)
        if account_id is not None:
            query = query.where(_T.c.account_id == account_id)
        try:
            found = conn.execute(query).all()
        finally:
            conn.commit()
        return [
            PolicyRecord(r.id, r.at, r.action, r.verdict, r.rule, r.reason, r.account_id, r.conversation, r.content)
            for r in reversed(found)
        ]


def denial(rule: str, reason: str) -> Decision:
    return Decision(Verdict.DENY, rule, reason)
