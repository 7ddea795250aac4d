"""What a conversation needs to know about the account it replies on (built on the engine thread)."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import AccountId, AggregatorError
from aggregator.core import Core


@dataclass(frozen=True, slots=True)
class ReplyInfo:
    banner: str | None  # the organisation's notice for this account's conversations
    max_body_length: int | None
    protocol: str  # the protocol's display name


def reply_info(core: Core, account_id: AccountId) -> ReplyInfo:
    banner = core.policy.banner(account_id)
    try:
        info = core.registry.get(core.accounts.config(account_id).protocol)
    except (KeyError, AggregatorError):
        return ReplyInfo(banner, None, account_id.partition(":")[0])
    return ReplyInfo(banner, info.max_body_length, info.name)


def over_limit_text(length: int, info: ReplyInfo) -> str | None:
    """The counter's error when ``length`` characters are too many for one message; None if they fit."""
    limit = info.max_body_length
    if limit is None or length <= limit:
        return None
    over = length - limit
    return f"{over:,} character{'s' if over > 1 else ''} over the limit of {limit:,} on {info.protocol}"
