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
from aggregator.app import settings as commands
from aggregator.app.accounts import AccountCommands
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.cli.database import open_archive
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact
from aggregator.control.client import request
from aggregator.policy.apply import enforce_locked
from aggregator.policy.engine import FailSafe, PolicyEngine
from aggregator.policy.file import load_policy
from aggregator.policy.log import PolicyLog
from aggregator.policy.state import PolicyState
from aggregator.prefs import keys
from aggregator.prefs.service import Preferences, enforce_logging
from aggregator.settings import Settings, read_raw


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
    put = verbs.add_parser("set", help=f"change one setting (keys: {keys.known_keys()})")
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    put.set_defaults(func=cmd_settings)


def _engine(paths: ProfilePaths) -> tuple[PolicyEngine, PolicyState, dict[str, Any]]:
    """The policy as a start would see it, without applying it; and the accounts' spheres."""
    load = load_policy(setting_names=Settings.names())
    state = PolicyState.load(paths.config_dir)
    engine = PolicyEngine(load.policy, fail_safe=state.fail_safe if load.error else FailSafe())
    try:
        spheres = {a.id: a.sphere for a in AccountCommands.offline(paths).accounts()}
    except ConfigurationError as exc:
        raise AggregatorError(str(exc)) from None
    engine.bind_accounts(lambda: spheres)
    return engine, state, spheres


def _settings(paths: ProfilePaths, engine: PolicyEngine) -> Settings:
    settings, _notes = enforce_logging(enforce_locked(Settings.load(paths.settings_file), engine), engine)
    return settings


def _offline(args: argparse.Namespace, paths: ProfilePaths) -> dict[str, Any]:
    engine, state, spheres = _engine(paths)
    if args.verb == "show":
        try:
            raw = read_raw(paths.settings_file)
        except (OSError, ValueError) as exc:
            raise AggregatorError(f"cannot read {paths.settings_file}: {exc}") from None
        views = keys.views(_settings(paths, engine), raw, engine, spheres, state.seeded)
        return {"ok": True, "settings": [commands.view_json(v) for v in views]}
    # Check the key and the value before touching the archive: a typo is a usage error, nothing else.
    keys.parse_value(keys.parse_key(args.key), args.value)
    paths.ensure()
    archive = open_archive(args, paths)
    try:
        engine.add_listener(PolicyLog(archive).record)
        prefs = Preferences(paths, _settings(paths, engine), engine, archive, lambda: spheres, seeded=state.seeded)
        return commands.run(prefs, {"op": "settings.set", "key": args.key, "value": args.value})
    finally:
        archive.close()


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
        later = " (applies at the next start)" if view["key"] in (*keys.SECONDS_KEYS, "database_url") else ""
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
