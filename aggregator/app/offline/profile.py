"""A profile no instance runs, with its archive opened once: which database holds it (the given URL,
else the ``database_url`` setting, else the profile's SQLite file) and the policy a start would see."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from aggregator.api import ConfigurationError
from aggregator.app.accounts import AccountCommands
from aggregator.archive import Archive
from aggregator.paths import ProfilePaths
from aggregator.policy.engine import FailSafe, PolicyEngine
from aggregator.policy.file import load_policy
from aggregator.policy.log import PolicyLog
from aggregator.policy.state import PolicyState
from aggregator.prefs.unlogged import UnloggedJournal, purge_leftovers
from aggregator.profile import InstanceLock
from aggregator.settings import Settings
from aggregator.settings import database_url as check_url

__all__ = ["Archive", "OfflineProfile", "database_url", "held", "open_archive"]

log = logging.getLogger(__name__)


def database_url(paths: ProfilePaths, given: str | None = None) -> str | None:
    """The archive's URL when it is not the profile's file; a bad ``given`` URL: ``ValueError``."""
    if given is not None:
        return check_url(given)
    return Settings.load(paths.settings_file).database_url


@contextmanager
def held(paths: ProfilePaths, *, ensure: bool = True) -> Iterator[None]:
    """The profile's lock while a command changes it: a running instance would race the writes
    (``ProfileLockedError`` when one runs)."""
    lock = InstanceLock(paths.lock_file)
    if ensure:
        paths.ensure()
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


class OfflineProfile:
    """The profile's archive, opened on first use and closed with the profile (a context manager)."""

    def __init__(self, paths: ProfilePaths, url: str | None = None) -> None:
        self.paths = paths
        self.url = url
        self._archive: Archive | None = None

    @classmethod
    def at(cls, paths: ProfilePaths, given_url: str | None = None) -> OfflineProfile:
        """The profile with the archive a start would use (a bad ``given_url``: ``ValueError``)."""
        return cls(paths, database_url(paths, given_url))

    def has_archive(self) -> bool:
        """Whether there is an archive to read (a database by URL always counts: it is created on open)."""
        return self.url is not None or self.paths.archive_file.exists()

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = open_archive(self.paths, self.url)
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def __enter__(self) -> OfflineProfile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_archive(paths: ProfilePaths, url: str | None) -> Archive:
    """The archive, without the messages a crashed run kept of conversations that are not logged."""
    archive = Archive.open(url=url) if url is not None else Archive.open(path=paths.archive_file)
    if UnloggedJournal.lists_spans(paths.config_dir):
        policy = _purge_policy(paths, archive)
        if policy is not None:
            purge_leftovers(paths.config_dir, paths.lock_file, archive, policy)
    return archive


def _purge_policy(paths: ProfilePaths, archive: Archive) -> PolicyEngine | None:
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
