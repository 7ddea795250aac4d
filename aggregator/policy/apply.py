"""Applying the policy file at start: settings tiers, preseeded profiles, the fail safe.

``start_policy`` runs before the settings and the accounts are loaded (``bootstrap.build_core``) and by
``aggregator policy apply``. It never raises for a bad policy: an unusable file is reported and nothing
from it applies, but logging the last good policy required stays required.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id, write_private_json
from aggregator.accounts.secrets import KeyringUnavailableError, SecretStore
from aggregator.api import AggregatorError, ConfigurationError, Sphere
from aggregator.paths import ProfilePaths
from aggregator.policy.engine import FailSafe, PolicyEngine
from aggregator.policy.file import Policy, PolicyLoad, ProfileSpec, expand_username, load_policy
from aggregator.policy.state import PolicyState
from aggregator.registry import ProtocolRegistry
from aggregator.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Missing:
    """A preseeded profile that needs something from the user before it can connect."""

    profile: str
    account_id: str | None
    what: str  # "password" | "username"


@dataclass
class PolicyReport:
    """What applying the policy did and what it found wrong; ``warnings`` must be shown prominently."""

    load: PolicyLoad
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def start_policy(
    paths: ProfilePaths,
    registry: ProtocolRegistry,
    secrets: SecretStore,
    *,
    load: PolicyLoad | None = None,
    usernames: Mapping[str, str] | None = None,
) -> tuple[PolicyEngine, PolicyReport]:
    """Read the policy and apply it to the profile's files; returns the engine and what happened."""
    load = load or load_policy()
    state = PolicyState.load(paths.config_dir)
    report = PolicyReport(load)
    if load.error:
        fail = state.fail_safe
        kept = sorted([s.value + " accounts" for s in fail.logging_spheres] + list(fail.logging_accounts))
        report.warnings.append(
            f"the policy file is unusable, nothing from it applies: {load.error}"
            + (f"; logging stays required for {', '.join(kept)} (last valid policy)" if kept else "")
        )
        for line in report.warnings:
            log.error("Policy: %s", line)
        return PolicyEngine(None, fail_safe=fail), report
    policy = load.policy
    if policy is None:
        if state.logging_spheres or state.logging_accounts:
            log.info("No policy file at %s; the previous policy's requirements are lifted", load.path)
            state.logging_spheres.clear()
            state.logging_accounts.clear()
            state.save()
        return PolicyEngine(None), report
    report.warnings.extend(f"policy {load.path}: {p} (skipped)" for p in load.problems)
    state.logging_spheres = {s for s, r in policy.spheres.items() if r.logging_required}
    state.logging_accounts = {a for a, r in policy.accounts.items() if r.logging_required}
    report.notes.extend(apply_settings(policy, state, paths.settings_file))
    apply_profiles(policy, state, paths, registry, secrets, report, usernames or {})
    state.save()
    return PolicyEngine(policy, fail_safe=FailSafe()), report


# -- settings tiers ---------------------------------------------------------------------------------


def _read_settings(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def apply_settings(policy: Policy, state: PolicyState, settings_file: Path) -> list[str]:
    """Seed ``defaults`` once, enforce ``locked`` (reverting the user's edits); returns what changed."""
    raw = _read_settings(settings_file)
    notes: list[str] = []
    if raw is None:
        log.error("%s is unreadable; locked settings apply in memory only this run", settings_file)
        return notes
    changed = False
    for key, value in policy.defaults.items():
        if key in state.seeded:
            continue
        state.seeded[key] = value
        if key not in raw and key not in policy.locked:
            raw[key] = value
            changed = True
            notes.append(f"setting {key} = {value:g} (the organisation's default)")
    for key, value in policy.locked.items():
        if raw.get(key) == value:
            continue
        if key in raw:
            log.warning(
                "Setting %s was %r in %s; the organisation's policy locks it at %g: reverted",
                key,
                raw[key],
                settings_file,
                value,
            )
            notes.append(f"setting {key} reverted to {value:g}: locked by the organisation's policy")
        raw[key] = value
        changed = True
    if changed:
        write_private_json(settings_file, raw)
    return notes


def enforce_locked(settings: Settings, engine: PolicyEngine) -> Settings:
    """The settings with every locked value in force (even if the file could not be written)."""
    policy = engine.policy
    if policy is None or not policy.locked:
        return settings
    locked: dict[str, Any] = {k: v for k, v in policy.locked.items() if k in Settings.names()}
    return replace(settings, **locked)


# -- preseeded profiles -----------------------------------------------------------------------------


def profile_account(
    spec: ProfileSpec, address: str, registry: ProtocolRegistry, existing: AccountConfig | None = None
) -> AccountConfig:
    info = registry.get(spec.protocol)
    address = info.normalize_address(address)
    options = dict(existing.options) if existing is not None else {}
    if spec.autojoin:
        options["autojoin"] = ",".join(spec.autojoin)
    return AccountConfig(
        id=make_account_id(info.id, address),
        protocol=info.id,
        address=address,
        sphere=spec.sphere,
        label=spec.label,
        server=spec.server,
        ca_file=spec.ca_file,
        allow_plaintext=spec.allow_plaintext,
        enabled=existing.enabled if existing is not None else True,
        options=options,
    )


def _relock(spec: ProfileSpec, account: AccountConfig) -> tuple[AccountConfig, list[str]]:
    """Put the profile's locked fields back where the user changed them."""
    wanted: dict[str, Any] = {}
    for name in spec.locked:
        match name:
            case "server":
                wanted["server"] = spec.server
            case "sphere":
                wanted["sphere"] = spec.sphere
            case "label":
                wanted["label"] = spec.label
            case "ca_file":
                wanted["ca_file"] = spec.ca_file
                wanted["pinned_certificate"] = None  # a pin would bypass the locked trust
            case "allow_plaintext":
                wanted["allow_plaintext"] = spec.allow_plaintext
            case "autojoin":
                options = dict(account.options)
                if spec.autojoin:
                    options["autojoin"] = ",".join(spec.autojoin)
                else:
                    options.pop("autojoin", None)
                wanted["options"] = options
            case _:
                pass
    changed = [k for k, v in wanted.items() if getattr(account, k) != v]
    if not changed:
        return account, []
    return replace(account, **{k: wanted[k] for k in changed}), changed


def apply_profiles(
    policy: Policy,
    state: PolicyState,
    paths: ProfilePaths,
    registry: ProtocolRegistry,
    secrets: SecretStore,
    report: PolicyReport,
    usernames: Mapping[str, str],
) -> None:
    store = AccountStore(paths.accounts_file)
    try:
        accounts = {a.id: a for a in store.load()}
    except ConfigurationError as exc:
        report.warnings.append(f"preseeded accounts not applied: {exc}")
        return
    before = dict(accounts)
    names = {spec.name for spec in policy.profiles}
    # Profiles the policy no longer names: their accounts are disabled.
    for name, account_id in list(state.profiles.items()):
        if name in names:
            continue
        del state.profiles[name]
        account = accounts.get(account_id)
        if account is not None and account.enabled:
            accounts[account_id] = replace(account, enabled=False)
            report.notes.append(f"disabled {account_id}: its profile {name!r} was removed from the policy")
    for spec in policy.profiles:
        made = state.profiles.get(spec.name)
        if spec.offboard:
            if made is not None and made in accounts:
                del accounts[made]
                try:
                    secrets.delete(made)
                except KeyringUnavailableError as exc:
                    report.warnings.append(f"offboarded {made}, but its keyring entry stays: {exc}")
                report.notes.append(f"removed {made} (offboarded by the policy); its history stays")
            state.profiles.pop(spec.name, None)
            continue
        if made is not None and made in accounts:
            account, changed = _relock(spec, accounts[made])
            if changed:
                log.warning("Account %s: locked fields %s reverted to the policy's values", made, changed)
                report.notes.append(f"{made}: {', '.join(changed)} reverted (locked by the policy)")
                accounts[made] = account
            _check_password(spec, made, secrets, report)
            continue
        username = usernames.get(spec.name) or state.usernames.get(spec.name) or expand_username(spec.username)
        if username is None:
            report.missing.append(Missing(spec.name, None, "username"))
            continue
        try:
            account = profile_account(spec, username, registry)
        except (ConfigurationError, AggregatorError) as exc:
            report.warnings.append(f"profile {spec.name!r} not created: {exc}")
            continue
        if spec.name in usernames:
            state.usernames[spec.name] = username
        state.profiles[spec.name] = account.id
        if account.id not in accounts:
            accounts[account.id] = account
            report.created.append(account.id)
            report.notes.append(f"created {account.id} from the policy's profile {spec.name!r}")
        _check_password(spec, account.id, secrets, report)
    if accounts != before:
        store.save(accounts.values())


def _check_password(spec: ProfileSpec, account_id: str, secrets: SecretStore, report: PolicyReport) -> None:
    try:
        if secrets.credentials(account_id).password is None:
            report.missing.append(Missing(spec.name, account_id, "password"))
    except KeyringUnavailableError as exc:
        report.warnings.append(f"cannot check the password of {account_id}: {exc}")


def logging_spheres(policy: Policy) -> frozenset[Sphere]:
    return frozenset(s for s, r in policy.spheres.items() if r.logging_required)
