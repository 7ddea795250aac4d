"""The organisation's policy on a profile no instance runs: check a file, show the policy in force,
apply it (create the preseeded accounts, store what the user gives), read the decisions it recorded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aggregator.accounts.secrets import SecretStore, check_keyring_available
from aggregator.app.offline.policy_text import describe
from aggregator.archive import Archive
from aggregator.paths import ProfilePaths
from aggregator.policy.apply import Missing, PolicyReport, start_policy
from aggregator.policy.engine import FailSafe
from aggregator.policy.file import POLICY_ENV, PolicyLoad, load_policy
from aggregator.policy.log import PolicyLog, PolicyRecord
from aggregator.policy.state import PolicyState
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from aggregator.settings import Settings

__all__ = [
    "POLICY_ENV",
    "Missing",
    "PolicyApplied",
    "PolicyCheck",
    "PolicyInForce",
    "PolicyLoad",
    "PolicyRecord",
    "apply",
    "check",
    "decisions",
    "has_preseeded_accounts",
    "in_force",
]


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """A policy file as a client would read it: what it does, and the protocols it names that are missing."""

    load: PolicyLoad
    lines: tuple[str, ...]
    unknown_protocols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyInForce:
    """The policy this profile runs under: its lines, the fail-safe kept while the file is unusable, and
    which preseeded profile is which account here."""

    load: PolicyLoad
    lines: tuple[str, ...]
    fail_safe: FailSafe
    profiles: tuple[tuple[str, str], ...]


def _load(path: Path | None = None) -> PolicyLoad:
    return load_policy(path, setting_names=Settings.names())


def check(path: Path, registry: ProtocolRegistry) -> PolicyCheck:
    """The file read as the policy (``load.policy`` is None when it is unusable)."""
    load = _load(path)
    if load.policy is None:
        return PolicyCheck(load, (), ())
    unknown = sorted({s.protocol for s in load.policy.profiles} - {info.id for info in registry.all()})
    return PolicyCheck(load, tuple(describe(load.policy, str(path))), tuple(unknown))


def in_force(paths: ProfilePaths) -> PolicyInForce:
    load = _load()
    state = PolicyState.load(paths.config_dir)
    lines = tuple(describe(load.policy, str(load.path))) if load.policy is not None and not load.error else ()
    return PolicyInForce(load, lines, state.fail_safe, tuple(sorted(state.profiles.items())))


def has_preseeded_accounts() -> bool:
    """Whether the policy creates an account at start (so a profile without accounts can still run)."""
    preseeded = load_policy().policy
    return bool(preseeded and any(not p.offboard for p in preseeded.profiles))


class PolicyApplied:
    """The policy applied to the profile's files (``report``, None without a policy file);
    ``store_password`` for what it misses."""

    def __init__(self, load: PolicyLoad, report: PolicyReport | None, secrets: SecretStore | None) -> None:
        self.load = load
        self.report = report
        self._secrets = secrets

    def store_password(self, account_id: str, password: str) -> None:
        assert self._secrets is not None
        check_keyring_available()
        self._secrets.set_password(account_id, password)


def apply(paths: ProfilePaths, registry: ProtocolRegistry, usernames: dict[str, str]) -> PolicyApplied:
    """Apply the policy now (no instance may run: the caller checks)."""
    load = _load()
    if load.policy is None and not load.error:
        return PolicyApplied(load, None, None)
    paths.ensure()
    secrets = SecretStore(profile_id(paths))
    _engine, report = start_policy(paths, registry, secrets, load=load, usernames=usernames)
    return PolicyApplied(load, report, secrets)


def decisions(paths: ProfilePaths, limit: int, account_id: str | None) -> list[PolicyRecord] | None:
    """What the policy refused or held, newest ``limit`` (oldest first); None when there is no archive."""
    if not paths.archive_file.exists():
        return None
    archive = Archive.open(path=paths.archive_file)
    try:
        return PolicyLog(archive).records(limit=limit, account_id=account_id)
    finally:
        archive.close()
