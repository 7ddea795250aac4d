"""Company policy: one engine, consulted at fixed points (the policy issue fills in the rules)."""

from aggregator.policy.engine import Decision, PolicyEngine, Verdict

__all__ = ["Decision", "PolicyEngine", "Verdict"]
