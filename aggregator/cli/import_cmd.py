"""``aggregator import pidgin|trillian DIR``: other clients' chat logs into the archive.

Idempotent: each imported line has a deterministic server id, so importing the same logs again
stores nothing new. Logs of an account that is not configured go to an archive-only account
(``<protocol>:<address>``), which keeps the history without connecting anywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.accounts.config import AccountStore
from aggregator.api import AggregatorError, ConfigurationError
from aggregator.archive.importers import (
    AccountMapper,
    ImportSummary,
    KnownAccount,
    import_logs,
    pidgin,
    trillian,
)
from aggregator.archive.importers.formats import FORMATS
from aggregator.cli.database import open_archive
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.cli.progress import Progress
from aggregator.paths import ProfilePaths
from aggregator.profile import InstanceLock
from aggregator.registry import ProtocolRegistry

_READERS = {"pidgin": pidgin, "trillian": trillian}
_TITLES = {"pidgin": "Pidgin", "trillian": "Trillian"}
#: At most this many skipped lines are listed one by one (all are counted).
_LISTED = 50


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "import",
        help="import chat logs of another client (Pidgin, Trillian, Adium, Gajim, irssi, WeeChat, HexChat, Element)",
    )
    kinds = cmd.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name, help_text in (
        ("pidgin", "Pidgin's logs (.purple/logs: <protocol>/<account>/<buddy>/<date>.html|.txt)"),
        ("trillian", "Trillian's .log files (users/default/logs/<MEDIUM>/<buddy>.log)"),
    ):
        p = kinds.add_parser(name, help=help_text, description=help_text)
        p.add_argument("directory", metavar="DIR", help="the log directory")
        p.set_defaults(func=cmd_import)
    for fmt in FORMATS.values():
        p = kinds.add_parser(fmt.name, help=fmt.description, description=fmt.description)
        p.add_argument("directory", metavar="DIR", help="the log directory")
        p.add_argument(
            "--me", action="append", default=[], metavar="NAME", help="your own nick or address (repeatable)"
        )
        p.add_argument("--timezone", metavar="ZONE", help="zone of logs written without one (default: local)")
        p.set_defaults(func=cmd_import)


def _normalizer(registry: ProtocolRegistry) -> Callable[[str, str], str]:
    def normalize(protocol: str, handle: str) -> str:
        try:
            return registry.get(protocol).normalize_handle(handle)
        except (AggregatorError, ValueError):
            return handle

    return normalize


def cmd_import(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    source: str = args.source
    directory = Path(args.directory).expanduser()
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    fmt = FORMATS.get(source)
    title = fmt.title if fmt is not None else _TITLES[source]
    if fmt is not None:
        zone = _zone(args.timezone)
        me: list[str] = list(args.me)
        root, files = fmt.read(directory)
        parsed = fmt.parse(root, files, me, zone)
    else:
        reader = _READERS[source]
        root, files = reader.read(directory)
        parsed = reader.parse_all(root, files)
    if not files:
        raise AggregatorError(f"no {title} logs under {directory}")
    try:
        configured = [
            KnownAccount(a.id, a.protocol, a.address, a.label, a.sphere)
            for a in AccountStore(paths.accounts_file).load()
        ]
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    lock = InstanceLock(paths.lock_file)
    paths.ensure()
    lock.acquire()  # one writer: message ids are allocated by this process alone
    try:
        archive = open_archive(args, paths)
        try:
            with Progress(f"importing {title} logs", len(files), "files") as progress:
                summary = import_logs(
                    archive,
                    parsed,
                    source=source,
                    accounts=AccountMapper(archive, configured, title),
                    normalize=_normalizer(registry),
                    on_file=progress.advance,
                )
        finally:
            archive.close()
    finally:
        lock.release()
    _report(summary, title, directory)
    return 0


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (an IANA name such as Europe/Berlin or UTC)") from None


def _report(summary: ImportSummary, title: str, directory: Path) -> None:
    out(
        f"imported {title} logs from {directory}: {summary.files} files, {summary.inserted} new messages "
        f"({summary.duplicates} already in the archive), {len(summary.conversations)} conversations"
    )
    if summary.accounts_created:
        out(
            f"archive-only accounts created (history only, not in accounts.json): {', '.join(summary.accounts_created)}"
        )
    if summary.skipped_files:
        out(f"skipped {len(summary.skipped_files)} files:")
        for skipped in summary.skipped_files:
            out(f"  {skipped}")
    if summary.skipped_lines:
        out(f"skipped {len(summary.skipped_lines)} lines:")
        for skipped in summary.skipped_lines[:_LISTED]:
            out(f"  {skipped}")
        if len(summary.skipped_lines) > _LISTED:
            out(f"  ... and {len(summary.skipped_lines) - _LISTED} more")
