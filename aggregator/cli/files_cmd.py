"""``aggregator files [--with ADDRESS] [--json]``, ``aggregator files fetch ID``, ``aggregator files save ID
-o PATH``: the files of messages, through the running instance if there is one, else on our own."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aggregator.api import AggregatorError
from aggregator.app.files import row_json, size_text
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, printable
from aggregator.cli.session import running_app
from aggregator.control.client import request


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    files = sub.add_parser("files", help="list, fetch and save the files of messages")
    files.add_argument("--with", dest="with_handle", metavar="ADDRESS", help="only files in conversations with ADDRESS")
    files.add_argument("--limit", type=int, default=100, help="at most this many, newest first (default 100)")
    files.add_argument("--json", action="store_true", help="one JSON object per file")
    files.set_defaults(func=cmd_list)
    actions = files.add_subparsers(dest="files_action", metavar="ACTION")
    fetch = actions.add_parser("fetch", help="fetch (and scan) a file that was offered and not fetched yet")
    fetch.add_argument("id", type=int, metavar="ID")
    fetch.set_defaults(func=cmd_fetch)
    save = actions.add_parser("save", help="save a clean file (held files never leave the quarantine)")
    save.add_argument("id", type=int, metavar="ID")
    save.add_argument("-o", "--output", required=True, type=Path, metavar="PATH", help="a file or a folder")
    save.set_defaults(func=cmd_save)


def _ask(paths: ProfilePaths, payload: dict[str, Any], alone: Callable[..., Any]) -> dict[str, Any]:
    """The running instance answers if there is one; else ``alone(app, engine)`` on our own."""
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        reply = request(paths.control_socket, payload)
        if not reply.get("ok"):
            raise AggregatorError(str(reply.get("error", "the running instance refused the request")))
        return reply
    lock.acquire()
    try:
        with running_app(paths) as (engine, app):
            return dict(alone(engine, app))
    finally:
        lock.release()


def cmd_list(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")

    def alone(engine: Any, app: Any) -> dict[str, Any]:
        async def listed() -> list[dict[str, Any]]:
            return [row_json(r) for r in app.file_rows(with_handle=args.with_handle, limit=args.limit)]

        return {"files": engine.call(listed())}

    reply = _ask(paths, {"op": "files.list", "with": args.with_handle, "limit": args.limit}, alone)
    files = reply["files"]
    if args.json:
        for item in files:
            out(json.dumps(item, ensure_ascii=False))
        return 0
    if not files:
        out("No files.")
        return 0
    for item in files:
        arrow = "→" if item["direction"] == "out" else "←"
        state = item["state"] + (f" ({item['reason']})" if item.get("reason") else "")
        out(
            f"{item['id']:>6}  {item['sent_at'][:16].replace('T', ' ')}  {arrow} {printable(item['conversation'])}  "
            f"{printable(item['name'])}  {size_text(item.get('size'))}  {printable(state)}"
        )
    return 0


def cmd_fetch(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    def alone(engine: Any, app: Any) -> dict[str, Any]:
        stored = engine.call(app.fetch_file(args.id))
        return {"state": stored.attachment.state.value, "reason": stored.attachment.reason or None}

    reply = _ask(paths, {"op": "files.fetch", "id": args.id}, alone)
    out(f"File {args.id}: {reply['state']}" + (f" ({printable(reply['reason'])})" if reply.get("reason") else ""))
    return 0


def cmd_save(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    target = args.output.expanduser().resolve()
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent} is not a folder")
    reply = _ask(
        paths,
        {"op": "files.save", "id": args.id, "output": str(target)},
        lambda engine, app: {"path": str(engine.call(app.save_file(args.id, target)))},
    )
    out(f"Saved {reply['path']}")
    return 0
