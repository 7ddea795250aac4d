"""CLI error kinds: a usage error exits 2, a runtime failure exits 1."""

from __future__ import annotations

from aggregator.api import AggregatorError


class UsageError(AggregatorError):
    """The command line asked for something invalid (bad address, unknown account, ...)."""
