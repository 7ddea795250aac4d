"""Whether the policy locks an account's ``autojoin`` rooms (its profile lists ``autojoin`` as locked):
then the user may not leave them."""

from __future__ import annotations

from aggregator.api import AccountId
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.state import PolicyState


def autojoin_lock(policy: PolicyEngine, paths: ProfilePaths, account_id: AccountId) -> str | None:
    """Why the account's autojoin rooms may not be left, or None when they may."""
    spec = policy.profile_of(account_id, PolicyState.load(paths.config_dir).profiles)
    if spec is not None and "autojoin" in spec.locked:
        return f"the organisation's policy locks this account's autojoin rooms (profile {spec.name!r})"
    return None
