"""Other clients' logs in their default folders (Pidgin's ``~/.purple/logs``, Trillian's ``users/*/logs``,
...), for the first run's "Import old logs" offer. A folder counts only when its format recognises logs in
it (the importer's own ``detect``), so an empty ``~/.purple/logs`` is not offered.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aggregator.archive.importers.formats import formats

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogSource:
    format: str  # the importer's name: ``aggregator import FORMAT DIR``
    title: str  # "Pidgin"
    folder: Path


def _candidates(home: Path, env: Mapping[str, str]) -> list[tuple[str, Path]]:
    data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    roaming = [Path(env["APPDATA"])] if env.get("APPDATA") else []
    wine = home / ".wine" / "drive_c"
    trillian_homes = [
        *(r / "Trillian" for r in roaming),
        *(p / "AppData" / "Roaming" / "Trillian" for p in _children(wine / "users")),
        wine / "Program Files" / "Trillian",
        wine / "Program Files (x86)" / "Trillian",
    ]
    found: list[tuple[str, Path]] = [
        ("pidgin", home / ".purple" / "logs"),
        *(("pidgin", r / ".purple" / "logs") for r in roaming),
        *(("trillian", users / "logs") for t in trillian_homes for users in _children(t / "users")),
        ("adium", home / "Library" / "Application Support" / "Adium 2.0" / "Users" / "Default" / "Logs"),
        ("gajim", data / "gajim"),
        ("hexchat", config / "hexchat" / "logs"),
        ("irssi", home / "irclogs"),
        ("weechat", data / "weechat" / "logs"),
        ("weechat", home / ".weechat" / "logs"),
    ]
    return found


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def find_log_sources(home: Path | None = None, env: Mapping[str, str] | None = None) -> list[LogSource]:
    """The default folders of other clients that hold their logs (each folder once, in a fixed order)."""
    home = home if home is not None else Path.home()
    env = env if env is not None else os.environ
    known = formats()
    sources: list[LogSource] = []
    seen: set[Path] = set()
    for name, folder in _candidates(home, env):
        fmt = known.get(name)
        if fmt is None or folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        try:
            if fmt.detect(folder):
                sources.append(LogSource(fmt.name, fmt.title, folder))
        except OSError as exc:
            log.warning("Cannot look for %s logs in %s: %s", fmt.title, folder, exc)
    return sources
