"""``aggregator status``: your own status, globally, per sphere or per account; ``status workhours``.

With a running instance the change goes through its control socket (it applies it to the connected
accounts at once); without one, ``status.json`` is written and applied at the next start.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline import status as offline_status
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact
from aggregator.control.client import request


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
    hours = verbs.add_parser("workhours", help="work hours: off-duty accounts show away, their notifications wait")
    what = hours.add_subparsers(dest="action", metavar="ACTION", required=True)
    hours_set = what.add_parser("set", help="the weekly schedule, e.g. 'mon-fri 09:00-17:30' (pairs may repeat)")
    hours_set.add_argument("schedule", metavar="DAYS HOURS", nargs="+")
    hours_set.add_argument(
        "--away-status", metavar="KIND", help="what off-duty accounts show: away (default), busy, invisible, offline"
    )
    hours_show = what.add_parser("show", help="the schedule and whether it is work time now")
    hours_show.add_argument("--json", action="store_true", help="JSON output")
    what.add_parser("off", help="no work hours")
    override = what.add_parser("override", help="the other state (working / off) for the rest of today")
    override.add_argument("--until-end-of-day", action="store_true", help="the default (and only) duration")
    override.add_argument("--clear", action="store_true", help="drop today's override")
    for p in (hours_set, hours_show, override, what.choices["off"]):
        p.set_defaults(func=cmd_workhours)


def cmd_status(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    req: dict[str, Any] = {"op": "status.show"}
    if args.verb == "set":
        account = None
        if args.account:
            try:
                account = AccountCommands.offline(paths).resolve(args.account).id
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
        try:
            data = offline_status.status(paths, req)
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None
    _show(args, data)
    return 0


def cmd_workhours(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    req: dict[str, Any] = {"op": "status.workhours", "action": args.action}
    if args.action == "set":
        if len(args.schedule) % 2:
            raise UsageError("give DAYS HOURS pairs, e.g. mon-fri 09:00-17:30")
        req["schedule"] = [args.schedule[i : i + 2] for i in range(0, len(args.schedule), 2)]
        req["away_status"] = args.away_status
    elif args.action == "override":
        req["clear"] = args.clear
    if InstanceLock(paths.lock_file).is_held_elsewhere():
        reply = request(paths.control_socket, req)
        if not reply.get("ok"):
            error = str(reply.get("error", "the request was refused"))
            raise UsageError(error) if reply.get("usage") else AggregatorError(error)
        data = reply["workhours"]
    else:
        try:
            data = offline_status.workhours(paths, req, datetime.now().astimezone())
        except ConfigurationError as exc:
            raise UsageError(str(exc)) from None
    _show_hours(args, data)
    return 0


def _show_hours(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if getattr(args, "json", False):
        out_exact(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not data["enabled"] and not data["override_day"]:
        out("work hours: off")
        return
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for day, (start, end) in sorted(data["days"].items(), key=lambda kv: int(kv[0])):
        out(f"{names[int(day)]}  {start}-{end}")
    out(f"off-duty accounts show: {data['quiet_kind']}")
    if data["override_day"]:
        out(f"override for {data['override_day']}: {'working' if data['override_working'] else 'off'}")
    if data["quiet_sphere"] is not None:
        now = "work time" if data["working_now"] else "off work"
        out(f"now: {now} ({data['quiet_sphere']} accounts show {data['quiet_kind']}, their notifications wait)")


def _show(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if getattr(args, "json", False):
        out_exact(json.dumps(data, ensure_ascii=False, indent=2))
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
