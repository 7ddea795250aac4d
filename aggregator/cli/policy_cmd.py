"""``aggregator policy check FILE | show | apply | log``: the organisation's policy."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from aggregator.api import AggregatorError
from aggregator.app.offline import policy as offline_policy
from aggregator.app.offline.policy import POLICY_ENV, PolicyLoad
from aggregator.app.runtime import InstanceLock, ProfileLockedError, ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact, warn


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = sub.add_parser("policy", help="the organisation's policy: check a file, show, apply, list denials")
    acts = policy.add_subparsers(dest="action", required=True, metavar="ACTION")

    check = acts.add_parser("check", help="validate a policy file and print what it would do")
    check.add_argument("file", metavar="FILE", type=Path)
    check.set_defaults(func=cmd_check)

    show = acts.add_parser("show", help="the policy in force, with where each value comes from")
    show.set_defaults(func=cmd_show)

    apply = acts.add_parser("apply", help="create the preseeded accounts now, asking only for what is missing")
    apply.add_argument("--password-stdin", action="store_true", help="read the password(s) from standard input")
    apply.add_argument(
        "--username", action="append", default=[], metavar="PROFILE=NAME", help="the username a profile asks for"
    )
    apply.set_defaults(func=cmd_apply)

    log = acts.add_parser("log", help="what the policy refused or held, and why")
    log.add_argument("--limit", type=int, default=100, help="the newest N entries (default 100)")
    log.add_argument("--account", metavar="ACCOUNT", help="only this account id")
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    log.set_defaults(func=cmd_log)


# -- commands -----------------------------------------------------------------------------------------


def _print_problems(load: PolicyLoad) -> None:
    for problem in load.problems:
        warn(f"policy {load.path}: {problem} (skipped)")


def cmd_check(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    path: Path = args.file
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    checked = offline_policy.check(path, registry)
    load, lines, unknown = checked.load, checked.lines, checked.unknown_protocols
    if load.error or load.policy is None:
        raise AggregatorError(f"{load.error or 'unusable policy'}; a client would apply nothing from it")
    _print_problems(load)
    for protocol in unknown:
        warn(f"policy {path}: no protocol {protocol!r} is installed; its profiles would be skipped")
    out(f"{path}: {len(lines)} value(s) would apply, {len(load.problems)} key(s) skipped")
    for line in lines:
        out(f"  {line}")
    return 1 if load.problems or unknown else 0


def cmd_show(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    policy = offline_policy.in_force(paths)
    load = policy.load
    if load.error:
        warn(f"the policy file is unusable, nothing from it applies: {load.error}")
        fail = policy.fail_safe
        for sphere in sorted(s.value for s in fail.logging_spheres):
            out(f"{sphere} accounts: logging required  [the last valid policy; kept while the file is unusable]")
        for account_id in sorted(fail.logging_accounts):
            out(f"{account_id}: logging required  [the last valid policy; kept while the file is unusable]")
        return 1
    if load.policy is None:
        out(f"No policy in force (looked at {load.path}; set {POLICY_ENV} to use another file).")
        return 0
    _print_problems(load)
    out(f"Policy {load.path}:")
    for line in policy.lines:
        out(f"  {line}")
    for name, account_id in policy.profiles:
        out(f"  profile {name} is account {account_id} on this profile")
    return 0


def _parse_usernames(pairs: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--username wants PROFILE=NAME, not {pair!r}")
        result[name.strip()] = value.strip()
    return result


def cmd_apply(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        raise ProfileLockedError("the profile is in use by a running instance; stop it first")
    usernames = _parse_usernames(args.username)
    applied = offline_policy.apply(paths, registry, usernames)
    load, report = applied.load, applied.report
    if report is None:
        out(f"No policy file at {load.path}; nothing to apply.")
        return 0
    for line in report.warnings:
        warn(line)
    for line in report.notes:
        out(line)
    failed = bool(load.error)
    for missing in report.missing:
        if missing.what == "username":
            warn(
                f"profile {missing.profile} needs a username: aggregator policy apply --username {missing.profile}=NAME"
            )
            failed = True
            continue
        assert missing.account_id is not None
        password = _read_password(args, missing.account_id)
        if password is None:
            warn(f"{missing.account_id} needs a password: aggregator policy apply --password-stdin")
            failed = True
            continue
        applied.store_password(missing.account_id, password)
        out(f"Stored the password of {missing.account_id} in the keyring.")
    return 1 if failed else 0


def _read_password(args: argparse.Namespace, account_id: str) -> str | None:
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {account_id}: ") or None
    return None


def cmd_log(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    records = offline_policy.decisions(paths, args.limit, args.account)
    if records is None:
        out("No policy decisions recorded (no archive yet).")
        return 0
    if args.json:
        for r in records:
            out_exact(
                json.dumps(
                    {
                        "id": r.id,
                        "at": r.at.isoformat(),
                        "action": r.action,
                        "verdict": r.verdict,
                        "rule": r.rule,
                        "reason": r.reason,
                        "account": r.account_id,
                        "conversation": r.conversation,
                    }
                )
            )
        return 0
    if not records:
        out("No policy decisions recorded.")
    for r in records:
        where = " ".join(x for x in (r.account_id, r.conversation) if x)
        out(f"{r.at.strftime('%Y-%m-%dT%H:%M:%SZ')} {r.verdict} {r.action} {where}: {r.reason} [rule {r.rule}]")
    return 0
