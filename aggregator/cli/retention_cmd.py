"""``aggregator retention --days N [--sphere S | --account A] [--dry-run]``: delete old messages.

The index stays consistent and the space is reclaimed (``aggregator.archive.retention``). Conversations
are kept, only their old messages go. ``--dry-run`` only says what would be deleted.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from aggregator.api import Sphere
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.archive import Archive, retention
from aggregator.archive.queries import ArchiveQueries
from aggregator.cli.database import has_archive, open_archive
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


def _resolve_account(archive: Archive, ref: str) -> str:
    rows = ArchiveQueries(archive).accounts()
    exact = [r.id for r in rows if r.id == ref]
    if exact:
        return exact[0]
    folded = ref.casefold()
    matches = sorted({r.id for r in rows if folded in (r.address.casefold(), r.label.casefold())})
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(
            f"no account {ref!r} in the archive (accounts: {', '.join(sorted(r.id for r in rows)) or 'none'})"
        )
    raise UsageError(f"{ref!r} matches several accounts ({', '.join(matches)}); use the account id")


def cmd_retention(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    if args.days < 0:
        raise UsageError("--days must be 0 or more")
    if not has_archive(args, paths):
        out("nothing to delete: there is no archive yet")
        return 0
    lock = InstanceLock(paths.lock_file)
    if not args.dry_run:
        lock.acquire()  # the running client would race the deletes and the compaction
    try:
        archive = open_archive(args, paths)
        try:
            accounts = None if args.account is None else (_resolve_account(archive, args.account),)
            sphere = None if args.sphere is None else Sphere(args.sphere)
            scope = retention.RetentionScope(days=args.days, sphere=sphere, account_ids=accounts)
            if args.dry_run:
                found = retention.plan(archive, scope)
                if not found.messages:
                    out(f"would delete nothing: no message is older than {_day(found.cutoff)}")
                else:
                    out(
                        f"would delete {found.messages} messages in {found.conversations} conversations, "
                        f"from {_day(found.oldest)} to {_day(found.newest)} (older than {_day(found.cutoff)})"
                    )
                return 0
            done = retention.apply(archive, scope)
        finally:
            archive.close()
    finally:
        lock.release()
    if not done.deleted:
        out(f"deleted nothing: no message is older than {_day(done.cutoff)}")
        return 0
    space = f"; reclaimed {done.reclaimed_bytes / 1024:.0f} KiB ({done.compaction})" if done.compaction else ""
    out(
        f"deleted {done.deleted} messages in {done.conversations} conversations, "
        f"from {_day(done.oldest)} to {_day(done.newest)} (older than {_day(done.cutoff)}){space}"
    )
    return 0
