"""Which database holds the archive: ``--database URL``, else the ``database_url`` setting, else the
profile's SQLite file."""

from __future__ import annotations

import argparse
import logging

from aggregator.api import ConfigurationError
from aggregator.app.accounts import AccountCommands
from aggregator.app.runtime import ProfilePaths
from aggregator.archive import Archive
from aggregator.cli.errors import UsageError
from aggregator.policy.engine import FailSafe, PolicyEngine
from aggregator.policy.file import load_policy
from aggregator.policy.log import PolicyLog
from aggregator.policy.state import PolicyState
from aggregator.prefs.unlogged import UnloggedJournal, purge_leftovers
from aggregator.settings import Settings
from aggregator.settings import database_url as check_url

log = logging.getLogger(__name__)


def database_url(args: argparse.Namespace, paths: ProfilePaths) -> str | None:
    """The archive's URL when it is not the profile's file (a bad ``--database``: ``UsageError``)."""
    given = getattr(args, "database", None)
    if given is not None:
        try:
            return check_url(given)
        except ValueError as exc:
            raise UsageError(f"--database {exc}") from None
    return Settings.load(paths.settings_file).database_url


def has_archive(args: argparse.Namespace, paths: ProfilePaths) -> bool:
    """Whether there is an archive to read (a database by URL always counts: it is created on open)."""
    return database_url(args, paths) is not None or paths.archive_file.exists()


def open_archive(args: argparse.Namespace, paths: ProfilePaths) -> Archive:
    """The archive, without the messages a crashed run kept of conversations that are not logged."""
    url = database_url(args, paths)
    archive = Archive.open(url=url) if url is not None else Archive.open(path=paths.archive_file)
    if UnloggedJournal.lists_spans(paths.config_dir):
        policy = _policy(paths, archive)
        if policy is not None:
            purge_leftovers(paths.config_dir, paths.lock_file, archive, policy)
    return archive


def _policy(paths: ProfilePaths, archive: Archive) -> PolicyEngine | None:
    """The policy as a start would see it (its decisions recorded in the archive's policy log); None
    when the accounts cannot be read, so that no account's required logging is missed."""
    load = load_policy(setting_names=Settings.names())
    fail_safe = PolicyState.load(paths.config_dir).fail_safe if load.error else FailSafe()
    engine = PolicyEngine(load.policy, fail_safe=fail_safe)
    try:
        spheres = {a.id: a.sphere for a in AccountCommands.offline(paths).accounts()}
    except ConfigurationError as exc:
        log.warning("Not removing unlogged messages now: %s", exc)
        return None
    engine.bind_accounts(lambda: spheres)
    engine.add_listener(PolicyLog(archive).record)
    return engine
