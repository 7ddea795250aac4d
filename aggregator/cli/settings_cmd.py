"""``aggregator settings show [--json]`` and ``aggregator settings set KEY VALUE``: the user's settings.

``show`` lists every setting with its value and where it comes from (default, user, policy default,
locked). ``set`` checks the value (a bad one: exit 2) and the organisation's policy (a locked setting,
logging the policy requires, retention beyond the policy's maximum: exit 1, recorded for ``aggregator
policy log``). With a running instance the change goes through its control socket and applies at once
(logging, retention); connection settings apply at the next start.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError, PolicyError
from aggregator.app.offline import preferences as offline_settings
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.app.types import SECONDS_KEYS
from aggregator.cli.database import profile
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact
from aggregator.control.client import request


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "settings",
        help="show or change your settings (logging, retention, connection)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = cmd.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = verbs.add_parser("show", help="every setting, its value and where it comes from")
    show.add_argument("--json", action="store_true", help="JSON output")
    show.set_defaults(func=cmd_settings)
    put = verbs.add_parser("set", help=f"change one setting (keys: {offline_settings.known_keys()})")
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    put.set_defaults(func=cmd_settings)


def _offline(args: argparse.Namespace, paths: ProfilePaths) -> dict[str, Any]:
    if args.verb == "show":
        return offline_settings.show(paths)
    return offline_settings.set_value(paths, args.key, args.value, lambda: profile(args, paths))


def cmd_settings(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    req: dict[str, Any] = {"op": f"settings.{args.verb}"}
    if args.verb == "set":
        req.update(key=args.key, value=args.value)
    try:
        if InstanceLock(paths.lock_file).is_held_elsewhere():
            reply = request(paths.control_socket, req)
        else:
            reply = _offline(args, paths)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    if not reply.get("ok"):
        error = str(reply.get("error", "the request was refused"))
        if reply.get("policy"):
            raise PolicyError(error, rule=str(reply.get("rule", "")))
        raise UsageError(error) if reply.get("usage") else AggregatorError(error)
    if args.verb == "set":
        view = reply["setting"]
        later = " (applies at the next start)" if view["key"] in (*SECONDS_KEYS, "database_url") else ""
        out(f"{view['key']} = {view['text']}{later}")
        return 0
    if args.json:
        out_exact(json.dumps(reply["settings"], ensure_ascii=False, indent=2))
        return 0
    width = max(len(v["key"]) for v in reply["settings"])
    for v in reply["settings"]:
        reason = f"  ({v['reason']})" if v["reason"] else ""
        out(f"{v['key']:<{width}}  {v['text']}  [{v['source']}]{reason}")
    return 0
