"""Trusting the certificate an account's server presented: it becomes that account's CA file.

The certificate (the leaf the user saw, PEM) is written to ``config_dir/certs/`` and the account's
``ca_file`` points at it; the adapters let such a pinned server certificate anchor verification on its
own, with hostname checking still on. Nothing is trusted for any other account.
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
from aggregator.api import AccountId, CertificateDetails, ConfigurationError, PolicyError
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.state import PolicyState

if TYPE_CHECKING:
    from aggregator.core import Core

log = logging.getLogger(__name__)

CERTS_DIR = "certs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")
_HEX = re.compile(r"[0-9A-F]{64}")


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
    """Make ``certificate`` the account's CA file and save the account. With ``fingerprint``, only when
    it is that certificate's. Raises ``PolicyError`` (ca_file locked) or ``ConfigurationError``."""
    if fingerprint is not None and normalize_fingerprint(fingerprint) != certificate.fingerprint_sha256:
        raise ConfigurationError(
            f"the certificate of {certificate.host} has the fingerprint {certificate.fingerprint_sha256}, "
            f"not {normalize_fingerprint(fingerprint)}; nothing was trusted"
        )
    refused = ca_file_lock(policy, paths, account_id)
    if refused is not None:
        raise PolicyError(refused, rule="profiles.locked.ca_file")
    accounts = store.load()
    account = next((a for a in accounts if a.id == account_id), None)
    if account is None:
        raise ConfigurationError(f"no account {account_id}")
    path = pinned_certificate_path(paths, account_id)
    write_public_pem(path, certificate.pem)
    changed = replace(account, ca_file=str(path))
    store.save([changed if a.id == account_id else a for a in accounts])
    log.info("Account %s now trusts the certificate %s (%s)", account_id, certificate.fingerprint_sha256, path)
    return changed


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
    await core.accounts.stop_account(account_id)
    core.accounts.configure([changed])
    if changed.enabled:
        core.accounts.start([account_id])
    return changed
