"""The retention job on demand: delete (or, on a dry run, count) the messages older than N days, of
one sphere's or one account's conversations or of all (``aggregator.archive.retention``)."""

from __future__ import annotations

from aggregator.api import ConfigurationError, Sphere
from aggregator.app.offline.profile import OfflineProfile, held
from aggregator.archive import Archive, retention
from aggregator.archive.queries import ArchiveQueries
from aggregator.archive.retention import RetentionPlan, RetentionResult, RetentionScope
from aggregator.files.store import FILES_DIR, FileStore

__all__ = ["RetentionPlan", "RetentionResult", "resolve_account", "run"]


def resolve_account(archive: Archive, ref: str) -> str:
    """The archived account ``ref`` names (its id, or its address or label in any case)."""
    rows = ArchiveQueries(archive).accounts()
    exact = [r.id for r in rows if r.id == ref]
    if exact:
        return exact[0]
    folded = ref.casefold()
    matches = sorted({r.id for r in rows if folded in (r.address.casefold(), r.label.casefold())})
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(sorted(r.id for r in rows)) or "none"
        raise ConfigurationError(f"no account {ref!r} in the archive (accounts: {known})")
    raise ConfigurationError(f"{ref!r} matches several accounts ({', '.join(matches)}); use the account id")


def run(
    profile: OfflineProfile, days: int, *, sphere: Sphere | None, account: str | None, dry_run: bool
) -> RetentionPlan | RetentionResult:
    """What would go (``dry_run``: a plan) or what went; a delete holds the profile's lock, since the
    running client would race the deletes and the compaction. An unknown account: ``ConfigurationError``."""
    if dry_run:
        return _run(profile, days, sphere, account, dry_run=True)
    with held(profile.paths, ensure=False):
        return _run(profile, days, sphere, account, dry_run=False)


def _run(
    profile: OfflineProfile, days: int, sphere: Sphere | None, account: str | None, *, dry_run: bool
) -> RetentionPlan | RetentionResult:
    with profile:
        archive = profile.archive
        accounts = None if account is None else (resolve_account(archive, account),)
        scope = RetentionScope(days=days, sphere=sphere, account_ids=accounts)
        if dry_run:
            return retention.plan(archive, scope)
        # The files of the deleted messages go with them (those no other message refers to).
        files = FileStore(profile.paths.data_dir / FILES_DIR)
        return retention.apply(archive, scope, release_files=files.delete_contents)
