"""``aggregator export --format jsonl|txt|html [QUERY] --output PATH``: the archive, or a search's
matches, to one file, oldest first. ``QUERY`` is the search query language (``aggregator search -h``).

The file is replaced atomically at the end (never left half-written) and created mode 0600: it holds
private conversations. The HTML is self-contained, with every body escaped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aggregator.app.offline.archive_reads import ExportFormat, export_archive, parse
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.types import SearchError
from aggregator.app.wire import message_json
from aggregator.cli.database import profile
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.cli.progress import Progress


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "export",
        help="export the archive (or a search's matches) as JSON lines, text or HTML",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("query", nargs="*", metavar="QUERY", help="only the messages matching this search query")
    cmd.add_argument("--format", required=True, choices=[f.value for f in ExportFormat], help="the file format")
    cmd.add_argument("--output", "-o", required=True, metavar="PATH", help="the file to write")
    cmd.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    text = " ".join(args.query).strip()
    try:
        query = parse(text) if text else None
    except SearchError as exc:
        raise UsageError(str(exc)) from None
    target = Path(args.output).expanduser()
    if target.is_dir():
        raise UsageError(f"--output {target} is a directory; give a file name")
    if not target.absolute().parent.is_dir():
        raise UsageError(f"--output: the directory {target.absolute().parent} does not exist")
    written = export_archive(
        profile(args, paths),
        query,
        text,
        target,
        ExportFormat(args.format),
        shape=message_json,
        progress=lambda total: Progress("exporting", total, "messages"),
    )
    out(f"exported {written} messages to {target}")
    return 0
