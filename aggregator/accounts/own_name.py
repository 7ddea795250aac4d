"""Our own display name on an account, where the account's settings give one.

The core learns no profile name from the servers; the account's ``display_name`` option (any protocol)
or ``realname`` (IRC's "Real name" field) is what the user told us. ``None``: the UI says "me".
"""

from __future__ import annotations

from aggregator.accounts.config import AccountConfig

OPTIONS = ("display_name", "realname")


def own_display_name(config: AccountConfig) -> str | None:
    for option in OPTIONS:
        value = config.options.get(option, "").strip()
        if value:
            return value
    return None
