"""``aggregator account trust-cert ACCOUNT``: show the certificate an account's server presents and
trust it for that account (y/N, or ``--fingerprint`` for scripts).

The account connects once, alone; when it fails on its certificate, the details are shown and, once
confirmed, the certificate becomes the account's CA file and the account connects again to prove it.
"""

from __future__ import annotations

import argparse

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.accounts.trust import (
    ca_file_lock,
    certificate_lines,
    normalize_fingerprint,
    trust_presented_certificate,
)
from aggregator.api import AggregatorError, CertificateDetails, ConfigurationError, PolicyError
from aggregator.cli.errors import UsageError
from aggregator.cli.output import ask, out
from aggregator.cli.session import running_core
from aggregator.core import Core
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.profile import InstanceLock
from aggregator.registry import ProtocolRegistry

CONNECT_WAIT = 45.0
_SETTLED = (ConnectionState.CONNECTED, ConnectionState.FAILED, ConnectionState.WAITING)


def add_parser(acts: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trust = acts.add_parser(
        "trust-cert", help="show the certificate an account's server presents and trust it for this account"
    )
    trust.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    trust.add_argument(
        "--fingerprint",
        metavar="SHA256",
        help="trust without asking, only if the certificate has this SHA-256 fingerprint (colons optional)",
    )
    trust.set_defaults(func=cmd_trust_cert)


async def _attempt(core: Core, account: AccountConfig) -> tuple[ConnectionState, str, CertificateDetails | None]:
    """Connect the account alone (again, when already started) and wait until it settles."""
    await core.accounts.stop_account(account.id)
    core.accounts.configure([account])
    await core.start(only=[account.id])
    supervisor = core.accounts.supervisor(account.id)
    assert supervisor is not None
    try:
        state = await supervisor.wait_for_state(*_SETTLED, timeout=CONNECT_WAIT)
    except TimeoutError:
        state = supervisor.state
    return state, supervisor.reason, core.accounts.presented_certificate(account.id)


async def _trust(core: Core, account_id: str, fingerprint: str) -> tuple[ConnectionState, str]:
    await trust_presented_certificate(core, account_id, fingerprint)
    supervisor = core.accounts.supervisor(account_id)
    assert supervisor is not None
    try:
        state = await supervisor.wait_for_state(*_SETTLED, timeout=CONNECT_WAIT)
    except TimeoutError:
        state = supervisor.state
    return state, supervisor.reason


def _confirmed() -> bool:
    return ask("Trust this certificate for this account? [y/N] ").strip().lower() in ("y", "yes")


def cmd_trust_cert(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    store = AccountStore(paths.accounts_file)
    try:
        account = store.resolve(args.account)
        wanted = normalize_fingerprint(args.fingerprint) if args.fingerprint else None
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    lock = InstanceLock(paths.lock_file)
    if lock.is_held_elsewhere():
        raise AggregatorError(
            "the profile is in use by a running instance: review the certificate in its Accounts dialog, "
            "or stop it first"
        )
    lock.acquire()
    try:
        with running_core(paths) as (engine, core):
            refused = ca_file_lock(core.policy, paths, account.id)
            if refused is not None:
                raise PolicyError(refused, rule="profiles.locked.ca_file")
            state, reason, certificate = engine.call(_attempt(core, account))
            if state is ConnectionState.CONNECTED:
                out(f"{account.id} connected: its server's certificate is already trusted.")
                return 0
            if certificate is None:
                raise AggregatorError(f"{account.id} did not fail on an untrusted certificate: {reason or state.value}")
            out(f"The certificate of {account.id}'s server is not trusted:")
            for label, value in certificate_lines(certificate):
                out(f"  {label + ':':<11}{value}")
            if wanted is not None:
                if wanted != certificate.fingerprint_sha256:
                    raise AggregatorError(
                        f"the certificate's fingerprint is {certificate.fingerprint_sha256}, not {wanted}; "
                        "nothing was trusted"
                    )
            elif not _confirmed():
                out("Nothing was trusted.")
                return 1
            state, reason = engine.call(_trust(core, account.id, certificate.fingerprint_sha256))
    finally:
        lock.release()
    out(f"{account.id} now trusts this certificate ({certificate.fingerprint_sha256}).")
    if state is not ConnectionState.CONNECTED:
        raise AggregatorError(f"{account.id} still does not connect: {reason or state.value}")
    out(f"{account.id} connected.")
    return 0
