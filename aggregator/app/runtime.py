"""What a front end needs to run the core beside it: the profile's paths and lock, the protocol
registry, the engine thread, event subscriptions and the control socket.

The window runs the core on an ``EngineThread`` and subscribes to its events (enriched by
``aggregator.app.enrich``) at ``PRIORITY_UI``; the values here are those of the core's own modules.
"""

from __future__ import annotations

from aggregator.bus import PRIORITY_UI, Subscription
from aggregator.control.server import ControlServer
from aggregator.engine import EngineThread, on_result
from aggregator.paths import HOME_ENV, ProfilePaths
from aggregator.profile import InstanceLock, ProfileLockedError, profile_id
from aggregator.registry import ProtocolRegistry

__all__ = [
    "HOME_ENV",
    "PRIORITY_UI",
    "ControlServer",
    "EngineThread",
    "InstanceLock",
    "ProfileLockedError",
    "ProfilePaths",
    "ProtocolRegistry",
    "Subscription",
    "on_result",
    "profile_id",
]
