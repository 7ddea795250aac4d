"""What a front end needs to run the core beside it: the engine thread and event subscriptions.

The window runs the core on an ``EngineThread`` and subscribes to its events (enriched by
``aggregator.app.enrich``) at ``PRIORITY_UI``; the values here are those of the core's own modules.
"""

from __future__ import annotations

from aggregator.bus import PRIORITY_UI, Subscription
from aggregator.engine import EngineThread, on_result

__all__ = ["PRIORITY_UI", "EngineThread", "Subscription", "on_result"]
