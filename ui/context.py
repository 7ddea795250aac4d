"""What every window gets: the bridge, and the core it may only reach through the bridge."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.app.application import App
from aggregator.core import Core
from aggregator.registry import ProtocolRegistry
from ui.bridge import Bridge


@dataclass(frozen=True)
class UiContext:
    bridge: Bridge
    core: Core  # touch only inside functions run on the engine thread (Bridge.run / Bridge.call)
    registry: ProtocolRegistry
    app: App  # the application layer: call it on the engine thread (Bridge.run / Bridge.call)
