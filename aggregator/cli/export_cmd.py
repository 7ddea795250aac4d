"""``aggregator export --format jsonl|txt|html [QUERY] --output PATH``: the archive, or a search's
matches, to one file, oldest first. ``QUERY`` is the search query language (``aggregator search -h``).

The file is replaced atomically at the end (never left half-written) and created mode 0600: it holds
private conversations. The HTML is self-contained, with every body escaped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.wire import message_json
from aggregator.cli.database import has_archive, open_archive
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.cli.progress import Progress
from aggregator.search import SearchError, parse
from aggregator.search.export import ExportFormat, Selection, export, export_title


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
    fmt = ExportFormat(args.format)
    if not has_archive(args, paths):
        written = export(Selection.empty(), target, fmt, shape=message_json, title=export_title(text))
    else:
        archive = open_archive(args, paths)
        try:
            selection = Selection(archive, query)
            with Progress("exporting", selection.count(), "messages") as progress:
                written = export(
                    selection, target, fmt, shape=message_json, title=export_title(text), on_message=progress.advance
                )
        finally:
            archive.close()
    out(f"exported {written} messages to {target}")
    return 0
