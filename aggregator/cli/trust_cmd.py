"""``aggregator account trust-cert ACCOUNT``: show the certificate an account's server presents and
trust it for that account (y/N, or ``--fingerprint`` for scripts).

The account connects once, alone; when it fails on its certificate, the details are shown and, once
confirmed, the account pins that certificate (accepted even self-signed, misnamed or expired; any other
refused) and connects again to prove it. With ``--fingerprint`` the pin is made first, without a
connection before it (e.g. the fingerprint an administrator gave, before the first connect); when the
server then presents another certificate the pin is undone and nothing is trusted.
With a running instance (GUI or headless) the request goes through its control socket instead: the
certificate shown is the one the instance holds for the FAILED account, and the instance reconnects it.
"""

from __future__ import annotations

import argparse
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError, PolicyError
from aggregator.app.accounts import AccountCommands
from aggregator.app.oneshot import CONNECT_WAIT
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.app.types import certificate_lines, normalize_fingerprint
from aggregator.cli.errors import UsageError
from aggregator.cli.output import ask, out
from aggregator.cli.session import running_app
from aggregator.control.client import request
from aggregator.events import ConnectionState

_SETTLED = (ConnectionState.CONNECTED, ConnectionState.FAILED, ConnectionState.WAITING)


def add_parser(acts: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trust = acts.add_parser(
        "trust-cert", help="show the certificate an account's server presents and trust it for this account"
    )
    trust.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    trust.add_argument(
        "--fingerprint",
        metavar="SHA256",
        help="pin the certificate with this SHA-256 fingerprint without asking (colons optional); works "
        "before the first connect",
    )
    trust.set_defaults(func=cmd_trust_cert)


def _confirmed() -> bool:
    return ask("Trust this certificate for this account? [y/N] ").strip().lower() in ("y", "yes")


def cmd_trust_cert(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    store = AccountCommands.offline(paths)
    try:
        account = store.resolve(args.account)
        wanted = normalize_fingerprint(args.fingerprint) if args.fingerprint else None
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        return _through_instance(paths, account.id, wanted)
    lock.acquire()
    try:
        with running_app(paths) as (engine, app):
            refused = app.ca_file_lock(account.id)
            if refused is not None:
                raise PolicyError(refused, rule="profiles.locked.ca_file")
            if wanted is not None:
                state, reason = engine.call(app.pin_and_wait(account, wanted))
                return _outcome(account.id, wanted, state, reason)
            state, reason, certificate = engine.call(app.connect_alone(account))
            if state is ConnectionState.CONNECTED:
                out(f"{account.id} connected: its server's certificate is already trusted.")
                return 0
            if certificate is None:
                raise AggregatorError(f"{account.id} did not fail on an untrusted certificate: {reason or state.value}")
            if not _decided(account.id, certificate_lines(certificate), certificate.fingerprint_sha256, wanted):
                return 1
            state, reason = engine.call(app.trust_and_wait(account.id, certificate.fingerprint_sha256))
    finally:
        lock.release()
    return _outcome(account.id, certificate.fingerprint_sha256, state, reason)


def _decided(account_id: str, lines: list[tuple[str, str]], fingerprint: str, wanted: str | None) -> bool:
    """Show the certificate; True when it is to be trusted (``wanted`` matches, or the user said yes)."""
    out(f"The certificate of {account_id}'s server is not trusted:")
    for label, value in lines:
        out(f"  {label + ':':<11}{value}")
    if wanted is not None:
        if wanted != fingerprint:
            raise AggregatorError(f"the certificate's fingerprint is {fingerprint}, not {wanted}; nothing was trusted")
        return True
    if not _confirmed():
        out("Nothing was trusted.")
        return False
    return True


def _outcome(account_id: str, fingerprint: str, state: ConnectionState, reason: str) -> int:
    out(f"{account_id} now trusts only this certificate ({fingerprint}), whatever its issuer, name and dates.")
    if state is not ConnectionState.CONNECTED:
        raise AggregatorError(f"{account_id} still does not connect: {reason or state.value}")
    out(f"{account_id} connected.")
    return 0


def _ask_instance(paths: ProfilePaths, payload: dict[str, Any]) -> dict[str, Any]:
    reply = request(paths.control_socket, payload, timeout=CONNECT_WAIT + 30)
    if not reply.get("ok"):
        error = str(reply.get("error", "the running instance refused the request"))
        if reply.get("policy"):
            raise PolicyError(error, rule=str(reply.get("rule", "")))
        raise UsageError(error) if reply.get("usage") else AggregatorError(error)
    return reply


def _through_instance(paths: ProfilePaths, account_id: str, wanted: str | None) -> int:
    """The profile is in use: show the certificate the running instance holds for the account, and
    have the instance trust it and reconnect the account."""
    if wanted is not None:
        done = _ask_instance(paths, {"op": "trust.pin", "account": account_id, "fingerprint": wanted})
        return _outcome(account_id, wanted, ConnectionState(done["state"]), str(done.get("reason", "")))
    shown = _ask_instance(paths, {"op": "trust.show", "account": account_id})
    state = ConnectionState(shown["state"])
    if state is ConnectionState.CONNECTED:
        out(f"{account_id} is connected in the running instance: its server's certificate is already trusted.")
        return 0
    certificate = shown.get("certificate")
    if certificate is None:
        raise AggregatorError(
            f"{account_id} did not fail on an untrusted certificate in the running instance: "
            f"{shown.get('reason') or state.value}"
        )
    fingerprint = str(certificate["fingerprint"])
    lines = [(str(label), str(value)) for label, value in certificate["lines"]]
    if not _decided(account_id, lines, fingerprint, wanted):
        return 1
    done = _ask_instance(paths, {"op": "trust.accept", "account": account_id, "fingerprint": fingerprint})
    return _outcome(account_id, fingerprint, ConnectionState(done["state"]), str(done.get("reason", "")))
