"""``window.raise`` / ``window.open``: a second launch hands its request to the running window.

The control server runs on the engine thread; the handler (the GUI's) must only queue the request to
its own thread and return. A headless instance has no handler and says so.
"""

from __future__ import annotations

from typing import Any, Protocol

from aggregator.api import AggregatorError
from aggregator.app.desktop import LinkTarget, parse_link

OPS = frozenset({"window.raise", "window.open"})


class WindowHandler(Protocol):
    def raise_window(self) -> None: ...

    def open_link(self, target: LinkTarget) -> None: ...


def run(handler: WindowHandler | None, request: dict[str, Any]) -> dict[str, Any]:
    if handler is None:
        raise AggregatorError(
            "this profile is already open in `aggregator run --headless`, which has no window; "
            "stop it to open the window"
        )
    if request["op"] == "window.open":
        link = request["link"]
        if not isinstance(link, str):
            raise TypeError("link must be a string")
        target = parse_link(link)  # the socket is the owner's, but the link came from anywhere
        handler.open_link(target)
        return {"ok": True, "target": target.to_json()}
    handler.raise_window()
    return {"ok": True}
