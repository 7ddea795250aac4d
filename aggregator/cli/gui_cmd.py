"""``aggregator`` / ``aggregator gui``: the desktop app, found through the ``aggregator.gui`` entry point."""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points

from aggregator.api import AggregatorError
from aggregator.app.runtime import ProfilePaths, ProtocolRegistry


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gui = sub.add_parser("gui", help="the desktop app (the default)")
    gui.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    found = list(entry_points(group="aggregator.gui"))
    if not found:
        raise AggregatorError(
            "the desktop app is not part of this build yet; use `aggregator run --headless` to connect and log, "
            "and `aggregator --help` for the command line"
        )
    launch = found[0].load()
    return int(launch(paths=paths, registry=registry))
