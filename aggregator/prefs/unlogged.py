"""Conversations that are not logged: shown while the app runs, removed from the archive afterwards.

While logging is off for an account, its messages are stored as usual (the UI shows them from the
archive), and the time span is written to ``unlogged.json`` in the config dir *before* any of them can
arrive. When the app stops, and again at the next start (a crash, a kill), every message of the account
received in such a span (``messages.received_at``) is deleted, in batches, index entries included, and
the journal is cleared. Messages logged before logging was turned off are kept.

The journal is a file the user can edit, so it is checked against the policy when it is read: a span
of an account whose logging the policy requires is ignored (its messages stay) and the refusal is
recorded as a policy event (``aggregator policy log``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.accounts.config import write_private_json
from aggregator.archive import Archive
from aggregator.archive.queries import ArchiveQueries
from aggregator.policy.engine import PolicyEngine, PolicyEvent, Verdict
from aggregator.profile import InstanceLock, ProfileLockedError

log = logging.getLogger(__name__)

JOURNAL_FILE = "unlogged.json"
BATCH = 2_000
#: Open spans end "now" plus this margin: a message stamped a moment later is still caught.
_MARGIN = timedelta(seconds=60)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Span:
    """Logging was off for ``account_id`` from ``start`` until ``end`` (None: still off)."""

    account_id: str
    start: datetime
    end: datetime | None = None


class UnloggedJournal:
    def __init__(self, config_dir: Path, policy: PolicyEngine, clock: Callable[[], datetime] = _now) -> None:
        self.path = config_dir / JOURNAL_FILE
        self._clock = clock
        self._policy = policy
        self._refused = False
        self._spans: list[Span] = self._allowed(_read(self.path))

    @staticmethod
    def lists_spans(config_dir: Path) -> bool:
        """Whether the journal names any span (not yet checked against the policy)."""
        return bool(_read(config_dir / JOURNAL_FILE))

    @property
    def spans(self) -> tuple[Span, ...]:
        return tuple(self._spans)

    def is_open(self, account_id: str) -> bool:
        return any(s.account_id == account_id and s.end is None for s in self._spans)

    def _allowed(self, spans: list[Span]) -> list[Span]:
        """The spans the policy allows; each one it forbids is recorded as a policy event and dropped."""
        kept: list[Span] = []
        for span in spans:
            required = self._policy.logging_required(span.account_id)
            if required.verdict is not Verdict.DENY:
                kept.append(span)
                continue
            until = span.end.isoformat() if span.end else "now"
            log.warning(
                "%s: ignoring the unlogged span of %s from %s to %s: %s",
                self.path,
                span.account_id,
                span.start.isoformat(),
                until,
                required.reason,
            )
            self._refused = True
            self._policy.record(
                PolicyEvent(
                    "logging",
                    replace(
                        required,
                        reason=f"{JOURNAL_FILE} asked to delete the messages from {span.start.isoformat()} "
                        f"to {until}; refused, kept: {required.reason}",
                    ),
                    account_id=span.account_id,
                    ref=f"{JOURNAL_FILE}:{span.start.isoformat()}:{until}",
                )
            )
        return kept

    def _save(self) -> None:
        write_private_json(
            self.path,
            {
                "spans": [
                    {
                        "account": s.account_id,
                        "from": s.start.isoformat(),
                        "to": s.end.isoformat() if s.end else None,
                    }
                    for s in self._spans
                ]
            },
        )

    def open(self, account_id: str) -> None:
        """Logging is off for this account from now on (written to disk before returning)."""
        if self.is_open(account_id):
            return
        self._spans.append(Span(account_id, self._clock()))
        self._save()

    def close(self, account_id: str) -> None:
        """Logging is on again: what arrived while it was off is still removed at the next purge."""
        now = self._clock()
        changed = [
            Span(s.account_id, s.start, now) if s.account_id == account_id and s.end is None else s for s in self._spans
        ]
        if changed != self._spans:
            self._spans = changed
            self._save()

    def purge(self, archive: Archive) -> int:
        """Delete the messages received in every span (all of them, batch by batch); clear the journal.
        Returns how many messages went."""
        if not self._spans and not self._refused:
            return 0
        now = self._clock()
        deleted = 0
        queries = ArchiveQueries(archive)
        for span in self._spans:
            end = span.end or now + _MARGIN
            deleted += queries.delete_received(span.account_id, span.start, end, batch=BATCH)
        if deleted:
            log.info("Removed %d messages of conversations that are not logged", deleted)
        self._spans = []
        self._refused = False
        self._save()
        return deleted


def _read(path: Path) -> list[Span]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            Span(
                str(s["account"]),
                datetime.fromisoformat(s["from"]),
                datetime.fromisoformat(s["to"]) if s.get("to") else None,
            )
            for s in data["spans"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Unreadable: treat every message since the epoch as unlogged would delete logged history;
        # keeping them is the lesser harm, said loudly.
        log.error("Cannot read %s (%s); messages of unlogged conversations may remain", path, exc)
        return []


def purge_leftovers(config_dir: Path, lock_file: Path, archive: Archive, policy: PolicyEngine) -> int:
    """For commands that read the archive without a running instance (search, export, history): remove
    what a crashed run left unlogged first. A running instance (or this command) holding the profile
    lock: nothing is done here; the instance removes them when it stops."""
    if not UnloggedJournal.lists_spans(config_dir):
        return 0
    lock = InstanceLock(lock_file)
    try:
        lock.acquire()
    except ProfileLockedError:
        return 0
    try:
        return UnloggedJournal(config_dir, policy).purge(archive)  # read (and checked) under the lock
    finally:
        lock.release()
