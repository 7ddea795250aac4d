"""Trusting the certificate an account's server presented: the account pins it by its SHA-256.

The pin (``AccountConfig.pinned_certificate``) is saved with the account; the certificate the user saw
(PEM) is also kept in ``config_dir/certs/`` for the record. The adapters then accept exactly that
certificate for that account, even self-signed, misnamed or expired, and refuse any other before
sending credentials ("the certificate changed"). A pin by fingerprint alone (typed, before the first
connect) works the same way. Nothing is trusted for any other account: their verification stays on.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.accounts.config import AccountConfig, AccountStore
from aggregator.api import (
    CERTIFICATE_CHANGED,
    AccountId,
    CertificateDetails,
    CertificateError,
    ConfigurationError,
    PolicyError,
)
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.state import PolicyState

if TYPE_CHECKING:
    from aggregator.core import Core

log = logging.getLogger(__name__)

CERTS_DIR = "certs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")
_HEX = re.compile(r"[0-9A-F]{64}")
_SETTLED = (ConnectionState.CONNECTED, ConnectionState.FAILED, ConnectionState.WAITING)


def pinned_certificate_path(paths: ProfilePaths, account_id: AccountId) -> Path:
    """Where an account's trusted certificate lives: a readable name plus a short hash (ids may collide
    once unsafe characters are replaced)."""
    digest = hashlib.sha256(account_id.encode()).hexdigest()[:8]
    return paths.config_dir / CERTS_DIR / f"{_UNSAFE.sub('_', account_id)}-{digest}.pem"


def certificate_lines(certificate: CertificateDetails) -> list[tuple[str, str]]:
    """The details a user decides on, as (label, value) pairs of plain text (UI and CLI alike)."""
    when = "%Y-%m-%d %H:%M UTC"
    return [
        ("Server", certificate.host),
        ("Problem", certificate.problem or "not trusted"),
        ("Issued to", certificate.subject + (" (self-signed)" if certificate.self_signed else "")),
        ("Issued by", certificate.issuer),
        ("Valid", f"from {certificate.not_before:{when}} until {certificate.not_after:{when}}"),
        ("SHA-256", certificate.fingerprint_sha256),
    ]


def normalize_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as ``AB:CD:...`` from any spacing, colons or case; bad input raises."""
    bare = re.sub(r"[\s:]", "", text).upper().removeprefix("SHA256")
    if not _HEX.fullmatch(bare):
        raise ConfigurationError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits, colons optional)")
    return ":".join(bare[i : i + 2] for i in range(0, 64, 2))


def ca_file_lock(policy: PolicyEngine, paths: ProfilePaths, account_id: AccountId) -> str | None:
    """Why this account's CA file may not change (its policy profile locks it), or None."""
    spec = policy.profile_of(account_id, PolicyState.load(paths.config_dir).profiles)
    if spec is not None and "ca_file" in spec.locked:
        return f"the CA file of {account_id} is locked by the organisation's policy (profile {spec.name!r})"
    return None


def write_public_pem(path: Path, pem: str) -> None:
    """Write a certificate atomically (temp file, fsync, rename), mode 0644: it is public, not a secret."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(pem if pem.endswith("\n") else pem + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pin_certificate(
    store: AccountStore,
    policy: PolicyEngine,
    paths: ProfilePaths,
    account_id: AccountId,
    certificate: CertificateDetails,
    fingerprint: str | None = None,
) -> AccountConfig:
    """Pin ``certificate`` for the account and save the account. With ``fingerprint``, only when it is
    that certificate's. Raises ``PolicyError`` (ca_file locked) or ``ConfigurationError``."""
    if fingerprint is not None and normalize_fingerprint(fingerprint) != certificate.fingerprint_sha256:
        raise ConfigurationError(
            f"the certificate of {certificate.host} has the fingerprint {certificate.fingerprint_sha256}, "
            f"not {normalize_fingerprint(fingerprint)}; nothing was trusted"
        )
    return pin_fingerprint(store, policy, paths, account_id, certificate.fingerprint_sha256, certificate.pem)


def pin_fingerprint(
    store: AccountStore,
    policy: PolicyEngine,
    paths: ProfilePaths,
    account_id: AccountId,
    fingerprint: str,
    pem: str | None = None,
) -> AccountConfig:
    """Pin the certificate with this SHA-256 ``fingerprint`` for the account (``pem``, when known, is
    kept for the record) and save the account. Raises ``PolicyError`` (ca_file locked) or
    ``ConfigurationError``."""
    pin = normalize_fingerprint(fingerprint)
    refused = ca_file_lock(policy, paths, account_id)
    if refused is not None:
        raise PolicyError(refused, rule="profiles.locked.ca_file")
    accounts = store.load()
    account = next((a for a in accounts if a.id == account_id), None)
    if account is None:
        raise ConfigurationError(f"no account {account_id}")
    path = pinned_certificate_path(paths, account_id)
    if pem is not None:
        write_public_pem(path, pem)
    else:
        path.unlink(missing_ok=True)  # a record of an earlier pin would describe another certificate
    # A CA file that was an earlier pin of ours (the partial-chain kind) is superseded by this one.
    ca_file = None if account.ca_file == str(path) else account.ca_file
    changed = replace(account, pinned_certificate=pin, ca_file=ca_file)
    store.save([changed if a.id == account_id else a for a in accounts])
    log.info("Account %s now trusts only the certificate %s", account_id, pin)
    return changed


def restore(store: AccountStore, account: AccountConfig) -> None:
    """Save ``account`` as it was (undo a pin that the server proved wrong)."""
    store.save([account if a.id == account.id else a for a in store.load()])


def pinned_warning(account: AccountConfig) -> str | None:
    """The warning shown for as long as the account trusts a pinned certificate, or None."""
    if account.pinned_certificate is None:
        return None
    return (
        f"trusts only its pinned certificate SHA-256 {account.pinned_certificate}; "
        "its issuer, name and dates are not checked"
    )


async def _reconnect(core: Core, changed: AccountConfig) -> None:
    await core.accounts.stop_account(changed.id)
    core.accounts.configure([changed])
    if changed.enabled:
        core.accounts.start([changed.id])


async def trust_fingerprint(core: Core, account_id: AccountId, fingerprint: str) -> AccountConfig:
    """Engine thread: pin a certificate by its fingerprint alone (e.g. given by an administrator, before
    the first connect), then reconnect the account. The certificate it FAILED on is kept for the record
    when it is that one."""
    shown = core.accounts.presented_certificate(account_id)
    pem = shown.pem if shown is not None and shown.fingerprint_sha256 == normalize_fingerprint(fingerprint) else None
    changed = pin_fingerprint(core.account_store, core.policy, core.paths, account_id, fingerprint, pem)
    await _reconnect(core, changed)
    return changed


async def pin_and_connect(
    core: Core, account_id: AccountId, fingerprint: str, wait: float, *, restart_after_undo: bool = True
) -> tuple[ConnectionState, str]:
    """Engine thread: pin by fingerprint, reconnect and wait (up to ``wait`` s) until the account settles.
    When its server presents another certificate, the pin is undone (the account as it was, started
    again unless ``restart_after_undo`` is false) and ``CertificateError`` says so with both fingerprints."""
    before = core.account_store.resolve(account_id)
    await trust_fingerprint(core, account_id, fingerprint)
    supervisor = core.accounts.supervisor(account_id)
    if supervisor is None:  # a disabled account: pinned, not connected
        return core.accounts.state(account_id), ""
    try:
        state = await supervisor.wait_for_state(*_SETTLED, timeout=wait)
    except TimeoutError:
        state = supervisor.state
    reason = supervisor.reason
    if state is ConnectionState.FAILED and CERTIFICATE_CHANGED in reason:
        restore(core.account_store, before)
        if restart_after_undo:
            await _reconnect(core, before)
        else:
            await core.accounts.stop_account(account_id)
            core.accounts.configure([before])
        raise CertificateError(f"{reason}; nothing was trusted")
    return state, reason


async def trust_presented_certificate(
    core: Core, account_id: AccountId, fingerprint: str | None = None
) -> AccountConfig:
    """Engine thread: trust the certificate the account FAILED on, then reconnect the account.

    ``fingerprint`` (what the user saw or typed) must match when given, so a certificate that changed
    after it was shown is not trusted unseen."""
    certificate = core.accounts.presented_certificate(account_id)
    if certificate is None:
        raise ConfigurationError(f"{account_id} has no untrusted certificate waiting for a decision")
    changed = pin_certificate(core.account_store, core.policy, core.paths, account_id, certificate, fingerprint)
    await _reconnect(core, changed)
    return changed
