"""What every window gets: the bridge, and the application layer it may only call through the bridge."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.app.application import App
from aggregator.app.runtime import ProtocolRegistry
from ui.bridge import Bridge


@dataclass(frozen=True)
class UiContext:
    bridge: Bridge
    registry: ProtocolRegistry
    app: App  # the application layer: call it on the engine thread (Bridge.run / Bridge.call)
