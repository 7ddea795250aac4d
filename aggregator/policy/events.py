"""Bus events of the policy: a decision that stopped something, and a problem with the policy file."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.events import CoreEvent
from aggregator.policy.engine import PolicyEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDenied(CoreEvent):
    """The policy stopped, held or warned about something; ``event.decision.reason`` is for the user."""

    event: PolicyEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyNotice(CoreEvent):
    """Something about the policy the user must see (``warning``: prominently, e.g. an unusable file)."""

    message: str
    warning: bool = True
