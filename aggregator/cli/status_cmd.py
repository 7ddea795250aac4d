"""``aggregator status``: your own status, globally, per sphere or per account.

With a running instance the change goes through its control socket (it applies it to the connected
accounts at once); without one, ``status.json`` is written and applied at the next start.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from aggregator.accounts.config import AccountStore
from aggregator.api import AggregatorError, ConfigurationError
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out
from aggregator.control.client import request
from aggregator.paths import ProfilePaths
from aggregator.presence.commands import book_json, changed_book
from aggregator.presence.status import StatusFile
from aggregator.profile import InstanceLock
from aggregator.registry import ProtocolRegistry


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = sub.add_parser("status", help="your own status on every account")
    verbs = status.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = verbs.add_parser("show", help="the global, per-sphere and per-account status")
    show.add_argument("--json", action="store_true", help="JSON output")
    show.set_defaults(func=cmd_status)
    put = verbs.add_parser("set", help="set your status (KIND: available, away, busy, invisible, offline, clear)")
    put.add_argument("kind", metavar="KIND")
    put.add_argument("message", metavar="MESSAGE", nargs="?", default="")
    put.add_argument("--sphere", choices=["work", "personal"], help="only this sphere's accounts")
    put.add_argument("--account", metavar="ACCOUNT", help="only this account (id, address or label)")
    put.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    req: dict[str, Any] = {"op": "status.show"}
    if args.verb == "set":
        account = None
        if args.account:
            try:
                account = AccountStore(paths.accounts_file).resolve(args.account).id
            except ConfigurationError as exc:
                raise UsageError(str(exc)) from None
        req = {
            "op": "status.set",
            "kind": args.kind,
            "message": args.message,
            "sphere": args.sphere,
            "account": account,
        }
    if InstanceLock(paths.lock_file).is_held_elsewhere():
        reply = request(paths.control_socket, req)
        if not reply.get("ok"):
            error = str(reply.get("error", "the request was refused"))
            raise UsageError(error) if reply.get("usage") else AggregatorError(error)
        data = reply["status"]
    else:
        file = StatusFile(paths.config_dir / "status.json")
        book = file.load()
        if args.verb == "set":
            try:
                book = changed_book(book, req)
            except ConfigurationError as exc:
                raise UsageError(str(exc)) from None
            file.save(book)
        data = book_json(book)
    _show(args, data)
    return 0


def _show(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if getattr(args, "json", False):
        out(json.dumps(data, ensure_ascii=False, indent=2))
        return

    def one(p: dict[str, str]) -> str:
        return p["kind"] + (f": {p['message']}" if p["message"] else "")

    out(f"global: {one(data['global'])}")
    for sphere, p in sorted(data["spheres"].items()):
        out(f"{sphere}: {one(p)}")
    for account, p in sorted(data["accounts"].items()):
        out(f"{account}: {one(p)}")
    for account, p in sorted(data.get("shown", {}).items()):
        out(f"  {account} shows {one(p)}")
