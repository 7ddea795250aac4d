"""``aggregator account add|list|remove|enable|disable|trust-cert``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import ssl
import sys
from pathlib import Path

from aggregator.api import ConfigurationError, ProtocolInfo, Sphere
from aggregator.app.accounts import AccountCommands, ensure_not_running
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.app.types import AccountConfig, make_account_id, pinned_warning
from aggregator.cli import trust_cmd
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact, warn
from aggregator.control.client import ControlUnavailableError, request


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    account = sub.add_parser("account", help="add, list, remove, enable or disable accounts")
    acts = account.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = acts.add_parser("add", help="add an account; the password goes to the OS keyring")
    add.add_argument("protocol", metavar="PROTOCOL")
    add.add_argument("address", metavar="ADDRESS", help="the protocol's own address: JID, Matrix id, IRC nick")
    add.add_argument("--server", metavar="HOST:PORT|URL", help="connect here instead of the address's domain")
    add.add_argument("--sphere", choices=[s.value for s in Sphere], default=Sphere.PERSONAL.value)
    add.add_argument("--label", default="", help="a name for the account")
    add.add_argument("--ca-file", metavar="PATH", help="trust this CA certificate (PEM) for this account")
    add.add_argument("--allow-plaintext", action="store_true", help="allow unencrypted connections (unsafe)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="a protocol-specific setting")
    add.set_defaults(func=cmd_add)

    lst = acts.add_parser("list", help="list accounts")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(func=cmd_list)

    for name, func, text in (
        ("remove", cmd_remove, "remove an account, its rooms and its keyring entry (its history stays in the archive)"),
        ("enable", cmd_enable, "connect this account when the client runs"),
        ("disable", cmd_disable, "do not connect this account"),
    ):
        p = acts.add_parser(name, help=text)
        p.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
        p.set_defaults(func=func)
    trust_cmd.add_parser(acts)


def _check_ca_file(path_text: str) -> str:
    path = Path(path_text).expanduser()
    try:
        pem = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the CA file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise UsageError(f"the CA file {path} holds no PEM certificate")
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as exc:
        raise UsageError(f"the CA file {path} is not a usable certificate: {exc.reason or exc}") from None
    return str(path.absolute())


def _parse_options(info: ProtocolInfo, pairs: list[str]) -> dict[str, str]:
    known = {f.name for f in info.fields}
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--option expects NAME=VALUE, got {pair!r}")
        if name not in known:
            raise UsageError(f"{info.name} has no setting {name!r} (settings: {', '.join(sorted(known))})")
        options[name] = value
    return options


def _read_password(args: argparse.Namespace, info: ProtocolInfo, address: str) -> str | None:
    required = any(f.name == "password" and f.required for f in info.fields)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {address}: ")
    elif required:
        raise UsageError("no terminal to ask for the password on; pipe it in with --password-stdin")
    else:
        password = ""
    if required and not password:
        raise UsageError(f"{info.name} accounts need a password")
    return password or None


def cmd_add(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    try:
        info = registry.get(args.protocol)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    try:
        address = info.normalize_address(args.address)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    ca_file = _check_ca_file(args.ca_file) if args.ca_file else None
    options = _parse_options(info, args.option)
    ensure_not_running(paths)
    commands = AccountCommands.offline(paths)
    account = AccountConfig(
        id=make_account_id(info.id, address),
        protocol=info.id,
        address=address,
        sphere=Sphere(args.sphere),
        label=args.label,
        server=args.server,
        ca_file=ca_file,
        allow_plaintext=args.allow_plaintext,
        options=options,
    )
    if commands.get(account.id) is not None:
        raise UsageError(f"account {account.id} already exists")
    commands.check_keyring()  # before asking for anything or creating any file
    password = _read_password(args, info, address)
    asyncio.run(commands.add(account, password))
    if args.allow_plaintext:
        warn(f"{account.id} may connect without encryption: anyone on the network can read its messages")
    out(f"Added {account.id} ({account.sphere.value}).")
    return 0


def _running_states(paths: ProfilePaths) -> dict[str, str]:
    if not InstanceLock(paths.lock_file).is_held_elsewhere():
        return {}
    try:
        reply = request(paths.control_socket, {"op": "accounts"}, timeout=5)
    except (ControlUnavailableError, OSError):
        return {}
    states = reply.get("accounts", {})
    return {str(k): str(v) for k, v in states.items()} if isinstance(states, dict) else {}


def cmd_list(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    accounts = AccountCommands.offline(paths).accounts()
    states = _running_states(paths)
    if args.json:
        for a in accounts:
            data = a.to_json()
            data["state"] = states.get(a.id, "disabled" if not a.enabled else "not running")
            out_exact(json.dumps(data, ensure_ascii=False))
        return 0
    if not accounts:
        out("No accounts. Add one with: aggregator account add PROTOCOL ADDRESS")
        return 0
    for a in accounts:
        state = states.get(a.id, "" if a.enabled else "disabled")
        extra = f"  [{state}]" if state else ""
        label = f"  \u201c{a.label}\u201d" if a.label else ""
        out(f"{a.id}  {a.sphere.value}{label}{extra}")
        if (pinned := pinned_warning(a)) is not None:
            out(f"    WARNING: {pinned}")
    return 0


def cmd_remove(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    commands = AccountCommands.offline(paths)
    try:
        account = commands.resolve(args.account)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    ensure_not_running(paths)
    asyncio.run(commands.remove(account.id))
    out(f"Removed {account.id}, its rooms and its keyring entry. Its history stays in the archive.")
    return 0


def _set_enabled(args: argparse.Namespace, paths: ProfilePaths, enabled: bool) -> int:
    commands = AccountCommands.offline(paths)
    try:
        account = commands.resolve(args.account)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    ensure_not_running(paths)
    asyncio.run(commands.set_enabled(account.id, enabled))
    out(f"{'Enabled' if enabled else 'Disabled'} {account.id}.")
    return 0


def cmd_enable(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    return _set_enabled(args, paths, True)


def cmd_disable(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    return _set_enabled(args, paths, False)
