"""``aggregator`` / ``aggregator gui``: the desktop app, found through the ``aggregator.gui`` entry point.

One window per profile: when an instance already runs, a launch hands it ``window.raise`` (or
``window.open`` with the link) over the control socket and exits.
"""

from __future__ import annotations

import argparse
import logging
from importlib.metadata import entry_points

from aggregator.api import AggregatorError
from aggregator.app.desktop import BadLinkError, LinkTarget, parse_link
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.control.client import ControlUnavailableError, request

log = logging.getLogger(__name__)

HANDOVER_TIMEOUT = 10.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gui = sub.add_parser("gui", help="the desktop app (the default)")
    gui.add_argument("--minimized", action="store_true", help="start in the tray (minimised where there is no tray)")
    gui.add_argument("link", nargs="?", help="an xmpp:, matrix:, irc: or aggregator: link to open (see `open`)")
    gui.set_defaults(func=cmd_gui)


def _link(args: argparse.Namespace) -> tuple[str | None, LinkTarget | None]:
    text = getattr(args, "link", None)
    if not text:
        return None, None
    try:
        return text, parse_link(text)
    except BadLinkError as exc:
        raise UsageError(f"cannot open {text!r}: {exc}") from None


def hand_over(paths: ProfilePaths, link: str | None) -> bool:
    """Ask the running instance to raise its window (and open ``link``); False when none answers."""
    if not paths.control_socket.exists():
        return False
    payload: dict[str, object] = {"op": "window.open", "link": link} if link else {"op": "window.raise"}
    try:
        reply = request(paths.control_socket, payload, timeout=HANDOVER_TIMEOUT)
    except ControlUnavailableError:
        return False  # a stale socket of an instance that is gone
    if not reply.get("ok"):
        raise AggregatorError(str(reply.get("error") or "the running instance refused without a reason"))
    log.info("Handed over to the running instance")
    return True


def cmd_gui(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    text, target = _link(args)
    if hand_over(paths, text):
        return 0
    found = list(entry_points(group="aggregator.gui"))
    if not found:
        raise AggregatorError(
            "the desktop app is not part of this build yet; use `aggregator run --headless` to connect and log, "
            "and `aggregator --help` for the command line"
        )
    launch = found[0].load()
    return int(launch(paths=paths, registry=registry, minimized=bool(getattr(args, "minimized", False)), link=target))
