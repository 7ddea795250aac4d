"""The record of policy decisions (``policy_events`` in the archive, schema v5)."""

from __future__ import annotations

import logging

from aggregator.archive import Archive
from aggregator.archive.policy_events import NewPolicyRecord, PolicyEventTable, PolicyRecord
from aggregator.policy.engine import Decision, PolicyEvent, Verdict

log = logging.getLogger(__name__)

__all__ = ["PolicyLog", "PolicyRecord", "denial"]


class PolicyLog:
    """Writes every ``PolicyEvent`` to the archive; reads them back for ``aggregator policy log``.

    While the archive has no ``policy_events`` table (an archive older than schema v5 opened by a
    client that cannot upgrade it yet), events are kept in memory for this run and a warning is logged.
    """

    def __init__(self, archive: Archive) -> None:
        self._table = PolicyEventTable(archive)
        self._stored = self._table.exists()
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
        self._table.add(
            NewPolicyRecord(
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

    def records(self, *, limit: int = 100, account_id: str | None = None) -> list[PolicyRecord]:
        """The newest ``limit`` events, oldest first."""
        if not self._stored:
            rows = [r for r in self._memory if account_id is None or r.account_id == account_id]
            return rows[-limit:]
        return self._table.newest(limit=limit, account_id=account_id)


def denial(rule: str, reason: str) -> Decision:
    return Decision(Verdict.DENY, rule, reason)
