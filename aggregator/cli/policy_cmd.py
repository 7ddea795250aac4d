"""``aggregator policy check FILE | show | apply | log``: the organisation's policy."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from aggregator.accounts.secrets import SecretStore, check_keyring_available
from aggregator.api import AggregatorError
from aggregator.app.runtime import InstanceLock, ProfileLockedError, ProfilePaths, ProtocolRegistry, profile_id
from aggregator.archive import Archive
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact, warn
from aggregator.policy.apply import start_policy
from aggregator.policy.file import POLICY_ENV, Policy, PolicyLoad, ScopeRules, expand_username, load_policy
from aggregator.policy.log import PolicyLog
from aggregator.policy.state import PolicyState
from aggregator.settings import Settings


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


# -- describing a policy ------------------------------------------------------------------------------


def _scope_lines(rules: ScopeRules) -> list[str]:
    lines: list[str] = []
    if rules.logging_required is not None:
        lines.append("logging " + ("required (cannot be turned off)" if rules.logging_required else "optional"))
    if rules.retention_days is not None:
        lines.append(f"messages older than {rules.retention_days} days are deleted by the retention job")
    if rules.file_transfer is not None:
        lines.append(f"file transfer: {rules.file_transfer}")
    if rules.allowed_domains is not None:
        lines.append(f"only to and from {', '.join(rules.allowed_domains)} (others refused, held, declined)")
    if rules.disclaimer is not None:
        lines.append(f"disclaimer sent once a day per conversation: {rules.disclaimer!r}")
    if rules.banner is not None:
        lines.append(f"banner shown in every conversation: {rules.banner!r}")
    return lines


def describe(policy: Policy, source: str) -> list[str]:
    """What the policy does, one line per value, each with where it comes from."""
    lines: list[str] = []
    for key, value in sorted(policy.locked.items()):
        lines.append(f"setting {key} = {value:g}: locked (every start)  [{source}: locked.{key}]")
    for key, value in sorted(policy.defaults.items()):
        lines.append(f"setting {key} = {value:g}: default, seeded once  [{source}: defaults.{key}]")
    for i, spec in enumerate(policy.profiles):
        where = f"[{source}: profiles[{i}]]"
        if spec.offboard:
            lines.append(f"profile {spec.name}: offboarded: its account and password are removed  {where}")
            continue
        username = expand_username(spec.username)
        who = username if username is not None else f"{spec.username or '(asked)'} (asked at first start)"
        extra = [f"server {spec.server}"] if spec.server else []
        extra += [f"CA {spec.ca_file}"] if spec.ca_file else []
        extra += [f"autojoin {', '.join(spec.autojoin)}"] if spec.autojoin else []
        extra += [f"locked {', '.join(sorted(spec.locked))}"] if spec.locked else []
        lines.append(
            f"profile {spec.name}: {spec.protocol} account {who}, {spec.sphere.value}"
            + (f" ({'; '.join(extra)})" if extra else "")
            + f"  {where}"
        )
    for sphere, rules in sorted(policy.spheres.items()):
        for line in _scope_lines(rules):
            lines.append(f"{sphere.value} accounts: {line}  [{source}: rules.{sphere.value}]")
    for account_id, rules in sorted(policy.accounts.items()):
        for line in _scope_lines(rules):
            lines.append(f'{account_id}: {line}  [{source}: rules.accounts."{account_id}"]')
    for i, rule in enumerate(policy.blocked_words):
        scope = ", ".join(sorted(s.value for s in rule.spheres)) + " accounts" if rule.spheres else "every account"
        what = "blocked" if rule.action == "block" else "sent only when confirmed"
        patterns = ", ".join(p.pattern for p in rule.patterns)
        lines.append(
            f"rule {rule.name}: messages matching {patterns} are {what} ({scope})  [{source}: rules.blocked_words[{i}]]"
        )
    if not policy.merge_across_spheres:
        lines.append(f"work and personal contacts cannot be merged  [{source}: rules.merge_across_spheres]")
    for name, text in sorted(policy.templates.items()):
        lines.append(f"template {name}: {text!r}  [{source}: rules.templates.{name}]")
    return lines


def _print_problems(load: PolicyLoad) -> None:
    for problem in load.problems:
        warn(f"policy {load.path}: {problem} (skipped)")


# -- commands -----------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    path: Path = args.file
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    load = load_policy(path, setting_names=Settings.names())
    if load.error or load.policy is None:
        raise AggregatorError(f"{load.error or 'unusable policy'}; a client would apply nothing from it")
    unknown = sorted({s.protocol for s in load.policy.profiles} - {info.id for info in registry.all()})
    _print_problems(load)
    for protocol in unknown:
        warn(f"policy {path}: no protocol {protocol!r} is installed; its profiles would be skipped")
    lines = describe(load.policy, str(path))
    out(f"{path}: {len(lines)} value(s) would apply, {len(load.problems)} key(s) skipped")
    for line in lines:
        out(f"  {line}")
    return 1 if load.problems or unknown else 0


def cmd_show(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    load = load_policy(setting_names=Settings.names())
    state = PolicyState.load(paths.config_dir)
    if load.error:
        warn(f"the policy file is unusable, nothing from it applies: {load.error}")
        fail = state.fail_safe
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
    for line in describe(load.policy, str(load.path)):
        out(f"  {line}")
    for name, account_id in sorted(state.profiles.items()):
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
    load = load_policy(setting_names=Settings.names())
    if load.policy is None and not load.error:
        out(f"No policy file at {load.path}; nothing to apply.")
        return 0
    paths.ensure()
    secrets = SecretStore(profile_id(paths))
    _engine, report = start_policy(paths, registry, secrets, load=load, usernames=usernames)
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
        check_keyring_available()
        secrets.set_password(missing.account_id, password)
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
    if not paths.archive_file.exists():
        out("No policy decisions recorded (no archive yet).")
        return 0
    archive = Archive.open(path=paths.archive_file)
    try:
        records = PolicyLog(archive).records(limit=args.limit, account_id=args.account)
    finally:
        archive.close()
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
