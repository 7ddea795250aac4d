"""``aggregator search QUERY``: messages matching a query, newest first.

``--json`` prints one object per line: the ``history --json`` fields plus ``snippet``, the matching
part of the body with every match between ``[[`` and ``]]`` (for display: a body may contain those
marks itself), and ``snippet_segments``, the unambiguous form: ``[{"text": ..., "match": true|false}]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from aggregator.app.offline.archive_reads import QUERY_HELP, SearchHit, marked_text, parse
from aggregator.app.offline.archive_reads import search as offline_search
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.app.types import Direction, SearchError, Segment
from aggregator.app.wire import message_json
from aggregator.cli.database import profile
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out_exact, printable

BOLD, RESET = "\x1b[1m", "\x1b[0m"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "search",
        help="search the archive, newest first",
        description="Search the archive, newest first." + (QUERY_HELP or "").split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("query", nargs="+", metavar="QUERY", help='words, "phrases", prefix*, -excluded, filters')
    cmd.add_argument("--limit", type=int, default=50, metavar="N", help="at most N messages (default 50)")
    cmd.add_argument("--before-id", type=int, metavar="ID", help="the next page: messages older than message ID")
    cmd.add_argument("--json", action="store_true", help="one JSON object per line")
    cmd.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace, paths: ProfilePaths, _registry: ProtocolRegistry) -> int:
    if args.limit <= 0:
        raise UsageError("--limit must be a positive number")
    try:
        query = parse(" ".join(args.query))
    except SearchError as exc:
        raise UsageError(str(exc)) from None
    hits = offline_search(profile(args, paths), query, args.limit, args.before_id)
    emphasis = sys.stdout.isatty()
    for hit in hits:
        # hit_line's text is printable already; it may hold the emphasis (bold) sequences of our own.
        out_exact(json.dumps(hit_json(hit), ensure_ascii=False) if args.json else hit_line(hit, emphasis))
    return 0


def hit_json(hit: SearchHit) -> dict[str, object]:
    shape = message_json(hit.message)
    shape["snippet"] = marked_text(hit.snippet)
    shape["snippet_segments"] = [{"text": s.text, "match": s.is_match} for s in hit.snippet]
    return shape


def _printable(text: str) -> str:
    """A snippet or a field on the result's one line: line breaks become spaces, other control
    characters visible stand-ins (``output.printable``)."""
    return printable(" ".join(text.replace("\r\n", "\n").split("\n")))


def _snippet(segments: Sequence[Segment], emphasis: bool) -> str:
    if not emphasis:
        return _printable("".join(s.text for s in segments))
    return "".join(f"{BOLD}{_printable(s.text)}{RESET}" if s.is_match else _printable(s.text) for s in segments)


def hit_line(hit: SearchHit, emphasis: bool) -> str:
    m = hit.message
    when = m.sent_at.astimezone().strftime("%Y-%m-%d %H:%M")
    arrow = "->" if m.direction is Direction.OUT else "<-"
    who = _printable(m.sender_name or m.sender)
    return f"{when}  {_printable(m.conversation.handle)}  {arrow} {who}: {_snippet(hit.snippet, emphasis)}  [{m.id}]"
