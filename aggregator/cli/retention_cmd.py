"""``aggregator retention --days N [--sphere S | --account A] [--dry-run]``: delete old messages.

The index stays consistent and the space is reclaimed (``aggregator.archive.retention``). Conversations
are kept, only their old messages go. ``--dry-run`` only says what would be deleted.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from aggregator.api import ConfigurationError, Sphere
from aggregator.app.offline import retention as offline_retention
from aggregator.app.offline.retention import RetentionPlan
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.cli.database import profile
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "retention",
        help="delete messages older than N days",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("--days", type=int, required=True, metavar="N", help="delete messages older than N days")
    which = cmd.add_mutually_exclusive_group()
    which.add_argument("--sphere", choices=[s.value for s in Sphere], help="only accounts of this sphere")
    which.add_argument("--account", metavar="ACCOUNT", help="only this account (id, address or label)")
    cmd.add_argument("--dry-run", action="store_true", help="say what would be deleted; delete nothing")
    cmd.set_defaults(func=cmd_retention)


def _day(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone().strftime("%Y-%m-%d")


def cmd_retention(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    if args.days < 0:
        raise UsageError("--days must be 0 or more")
    offline = profile(args, paths)
    if not offline.has_archive():
        out("nothing to delete: there is no archive yet")
        return 0
    sphere = None if args.sphere is None else Sphere(args.sphere)
    try:
        done = offline_retention.run(offline, args.days, sphere=sphere, account=args.account, dry_run=args.dry_run)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    if isinstance(done, RetentionPlan):
        if not done.messages:
            out(f"would delete nothing: no message is older than {_day(done.cutoff)}")
        else:
            out(
                f"would delete {done.messages} messages in {done.conversations} conversations, "
                f"from {_day(done.oldest)} to {_day(done.newest)} (older than {_day(done.cutoff)})"
            )
        return 0
    if not done.deleted:
        out(f"deleted nothing: no message is older than {_day(done.cutoff)}")
        return 0
    space = f"; reclaimed {done.reclaimed_bytes / 1024:.0f} KiB ({done.compaction})" if done.compaction else ""
    out(
        f"deleted {done.deleted} messages in {done.conversations} conversations, "
        f"from {_day(done.oldest)} to {_day(done.newest)} (older than {_day(done.cutoff)}){space}"
    )
    return 0
