"""The policy engine's fixed points. Decisions are values, with the rule and a reason the user sees.

Until an organisation's policy is loaded, every decision is ``allow``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aggregator.api import AccountId, ConversationKey, MessageReceived, Sphere


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    WARN = "warn"
    REDACT = "redact"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    rule: str = ""
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is not Verdict.DENY


ALLOW = Decision(Verdict.ALLOW)


class PolicyEngine:
    def check_inbound(self, event: MessageReceived) -> Decision:
        return ALLOW

    def check_outbound(self, account_id: AccountId, conversation: ConversationKey, body: str) -> Decision:
        return ALLOW

    def check_merge(
        self, *, target_sphere: Sphere, source_sphere: Sphere, contact_spheres: frozenset[Sphere]
    ) -> Decision:
        """May the user merge a person (``source_sphere``) into another (``target_sphere``)?
        ``contact_spheres``: the spheres of the accounts of every contact the merged person would have."""
        return ALLOW
