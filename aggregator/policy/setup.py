"""Finishing the accounts the policy preseeded: what the user still has to type (a username where the
profile asks for one, the password), and taking it.

``apply_profiles`` creates the accounts at start and reports what is missing; the window asks for it
(the CLI's ``aggregator policy apply`` does the same on a terminal). Run on the engine thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aggregator.accounts.secrets import KeyringUnavailableError
from aggregator.api import AccountId, ConfigurationError
from aggregator.core import Core
from aggregator.policy.apply import Missing, PolicyReport, apply_profiles
from aggregator.policy.state import PolicyState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SetupNeed:
    """One preseeded profile that cannot connect yet."""

    profile: str
    #: The account made from the profile; None while its username is still missing.
    account_id: AccountId | None
    needs_username: bool
    protocol: str
    #: What the user recognises the account by: the profile's label, else its server, else its name.
    title: str


def pending(core: Core) -> list[SetupNeed]:
    """The preseeded profiles still missing a username or a password (re-checked now, not at start)."""
    report, policy = core.policy_report, core.policy.policy
    if report is None or policy is None:
        return []
    specs = {spec.name: spec for spec in policy.profiles}
    needs: list[SetupNeed] = []
    for missing in report.missing:
        spec = specs.get(missing.profile)
        if spec is None or not _still_missing(core, missing):
            continue
        title = spec.label or (f"{spec.protocol} on {spec.server}" if spec.server else spec.name)
        needs.append(SetupNeed(spec.name, missing.account_id, missing.what == "username", spec.protocol, title))
    return needs


def _still_missing(core: Core, missing: Missing) -> bool:
    if missing.account_id is None:
        return True
    try:
        return core.secrets.credentials(missing.account_id).password is None
    except KeyringUnavailableError:
        return True


async def complete(core: Core, need: SetupNeed, *, username: str, password: str) -> AccountId:
    """Take what the user typed: create the account (when it waited for a username), keep the password
    in the keyring, and connect it. ``ConfigurationError`` says what is wrong; nothing is half done."""
    policy = core.policy.policy
    if policy is None:
        raise ConfigurationError("the organisation's policy no longer applies")
    if need.needs_username and not username.strip():
        raise ConfigurationError("enter your username for this account")
    if not password:
        raise ConfigurationError("enter the password")
    account_id = need.account_id
    if account_id is None:
        account_id = _create(core, need.profile, username.strip())
    core.secrets.set_password(account_id, password)
    report = core.policy_report
    if report is not None:
        report.missing[:] = [m for m in report.missing if m.profile != need.profile]
    await core.accounts.stop_account(account_id)
    config = next(c for c in core.account_store.load() if c.id == account_id)
    core.accounts.configure([config])
    if config.enabled:
        core.accounts.start([account_id])
    log.info("Preseeded account %s is set up", account_id)
    return account_id


def _create(core: Core, profile: str, username: str) -> AccountId:
    policy, report = core.policy.policy, core.policy_report
    if policy is None or report is None:
        raise ConfigurationError("the organisation's policy was not loaded at start")
    state = PolicyState.load(core.paths.config_dir)
    scratch = PolicyReport(report.load)
    apply_profiles(policy, state, core.paths, core.registry, core.secrets, scratch, {profile: username})
    account_id = state.profiles.get(profile)
    if account_id is None:
        problems = "; ".join(scratch.warnings) or "the profile could not be applied"
        raise ConfigurationError(f"cannot create the account: {problems}")
    state.save()
    return account_id
