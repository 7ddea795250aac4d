"""Who we are on each account (our address and display name), read on the engine thread: for naming our
own messages in a conversation and in search results."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.accounts.own_name import own_display_name
from aggregator.api import AccountId
from aggregator.core import Core


@dataclass(frozen=True, slots=True)
class AccountSelf:
    address: str
    name: str | None  # our display name on the account, if the core knows one


def account_selves(core: Core, account_ids: tuple[AccountId, ...]) -> dict[AccountId, AccountSelf]:
    """On the engine thread: our address and name on each account (accounts that are gone are left out)."""
    found: dict[AccountId, AccountSelf] = {}
    for account_id in account_ids:
        try:
            config = core.accounts.config(account_id)
        except KeyError:
            continue
        found[account_id] = AccountSelf(config.address, own_display_name(config))
    return found
