"""The account manager publishes ``AccountsChanged`` when an account is added, edited or forgotten,
so every view of the accounts (status scopes, accounts strip) can follow without a restart."""

from __future__ import annotations

from dataclasses import replace

from aggregator.events import AccountsChanged
from tests.core.conftest import CoreWorld


async def test_edits_publish_accounts_changed_and_a_same_config_does_not(world: CoreWorld) -> None:
    core = await world.start()
    seen: list[AccountsChanged] = []
    core.bus.subscribe(AccountsChanged, seen.append)
    account = core.accounts.config(world.account_id)

    core.accounts.configure([account])  # nothing changed
    assert seen == []

    core.accounts.configure([replace(account, label="Alice at work")])
    assert seen == [AccountsChanged(account_ids=(world.account_id,))]
    assert core.accounts.config(world.account_id).display_name == "Alice at work"

    await core.accounts.stop_account(world.account_id)  # disconnecting alone changes no account
    assert len(seen) == 1
    await core.accounts.stop_account(world.account_id, forget=True)
    assert seen[-1] == AccountsChanged(account_ids=(world.account_id,)) and len(seen) == 2
    assert world.account_id not in {a.id for a in core.accounts.configs()}
