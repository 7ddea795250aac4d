"""``App``: the application layer over one running core, for the window and the control socket.

Every method runs on the engine thread (the window reaches it through ``ui.bridge.Bridge``); what it
returns is a frozen value the GUI thread may keep. The inner services are its implementation only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aggregator.app.accounts import AccountCommands
from aggregator.app.enrich import Enricher
from aggregator.bus import PRIORITY_UI, Subscription
from aggregator.core import Core

log = logging.getLogger(__name__)


class App:
    def __init__(self, core: Core) -> None:
        self._core = core
        self.accounts = AccountCommands.live_on(core)
        self.events = Enricher(core)

    def subscribe(
        self, event_type: type[Any], handler: Callable[[Any], None], *, priority: int = PRIORITY_UI
    ) -> Subscription:
        """The core's events of ``event_type``, enriched (``aggregator.app.enrich``). Engine thread."""
        return self.events.subscribe(event_type, handler, priority=priority)
