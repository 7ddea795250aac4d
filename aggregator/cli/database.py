"""Which database holds the archive: ``--database URL``, else the ``database_url`` setting, else the
profile's SQLite file."""

from __future__ import annotations

import argparse

from aggregator.app.runtime import ProfilePaths
from aggregator.archive import Archive
from aggregator.cli.errors import UsageError
from aggregator.prefs.unlogged import purge_leftovers
from aggregator.settings import Settings
from aggregator.settings import database_url as check_url


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
    purge_leftovers(paths.config_dir, paths.lock_file, archive)
    return archive
