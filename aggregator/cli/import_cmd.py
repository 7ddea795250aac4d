"""``aggregator import FORMAT|auto DIR``: other clients' chat logs into the archive.

Idempotent and resumable: each imported line has a deterministic server id and every batch is
committed on its own, so importing the same logs again (after a crash too) stores only what is
missing. Logs of an account that is not configured go to an archive-only account
(``<protocol>:<address>``), which keeps the history without connecting anywhere.
"""

from __future__ import annotations

import argparse
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.api import AggregatorError, ConfigurationError
from aggregator.app.offline.importer import LogImport
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.types import ReadOptions, import_formats
from aggregator.cli.database import profile
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.cli.progress import Progress


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    known = import_formats()
    cmd = sub.add_parser(
        "import",
        help=f"import chat logs of another client ({', '.join(f.title for f in known.values())})",
        description="Import another client's chat logs into the archive. Importing the same logs again "
        "(after a crash too) stores only what is missing.",
    )
    kinds = cmd.add_subparsers(dest="source", metavar="FORMAT", required=True)
    choices = [("auto", "recognise which client's logs DIR holds and import them")]
    choices += [(f.name, f.description) for f in known.values()]
    for name, help_text in choices:
        p = kinds.add_parser(name, help=help_text, description=help_text)
        p.add_argument("directory", metavar="DIR", help="the log directory")
        p.add_argument(
            "--me",
            action="append",
            default=[],
            metavar="NAME",
            help="a name you wrote under (an alias, a nickname); repeatable. Names the logs teach "
            "(your screen names, Pidgin's colour for you, Trillian's outgoing messages) need not be given",
        )
        p.add_argument(
            "--timezone",
            metavar="ZONE",
            help="the time zone of logs written without one, e.g. Europe/Berlin (default: this machine's)",
        )
        p.add_argument("-v", "--verbose", dest="per_file", action="store_true", help="list every file and line")
        p.set_defaults(func=cmd_import)


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use a name like Europe/Berlin or UTC)") from None


def cmd_import(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    directory = Path(args.directory).expanduser()
    options = ReadOptions(me=tuple(args.me), zone=_zone(args.timezone))
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    try:
        job = LogImport(paths, registry, args.source, directory)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    verbose = bool(args.per_file or getattr(args, "verbose", 0))

    def progress(title: str, files: int) -> Progress:
        return Progress(f"importing {title} logs", files, "files", items="messages")

    read_any = False
    for outcome in job.run(profile(args, paths), options, progress, verbose=verbose):
        for line in outcome.lines:
            out(line)
        read_any = read_any or outcome.summary.files > 0
    if not read_any:
        raise AggregatorError(f"no file under {directory} could be read as a chat log (see the list above)")
    return 0
