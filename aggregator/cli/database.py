"""Which database holds the archive: ``--database URL``, else the ``database_url`` setting, else the
profile's SQLite file (``aggregator.app.offline.profile``); a bad ``--database`` is a usage error."""

from __future__ import annotations

import argparse

from aggregator.app.offline.profile import Archive, OfflineProfile
from aggregator.app.runtime import ProfilePaths
from aggregator.cli.errors import UsageError


def profile(args: argparse.Namespace, paths: ProfilePaths) -> OfflineProfile:
    """The profile no instance runs, with the archive the command's ``--database`` names."""
    try:
        return OfflineProfile.at(paths, getattr(args, "database", None))
    except ValueError as exc:
        raise UsageError(f"--database {exc}") from None


def database_url(args: argparse.Namespace, paths: ProfilePaths) -> str | None:
    """The archive's URL when it is not the profile's file (a bad ``--database``: ``UsageError``)."""
    return profile(args, paths).url


def has_archive(args: argparse.Namespace, paths: ProfilePaths) -> bool:
    """Whether there is an archive to read (a database by URL always counts: it is created on open)."""
    return profile(args, paths).has_archive()


def open_archive(args: argparse.Namespace, paths: ProfilePaths) -> Archive:
    """The archive, without the messages a crashed run kept of conversations that are not logged."""
    return profile(args, paths).archive
