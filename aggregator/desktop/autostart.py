""""Start with my session": an XDG autostart entry that starts the app minimised to the tray."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import resources
from aggregator.desktop.xdg import XdgDirs, entry_escape, exec_line

log = logging.getLogger(__name__)

MINIMIZED_FLAG = "--minimized"


def autostart_path(dirs: XdgDirs) -> Path:
    return dirs.config_home / "autostart" / f"{resources.APP_ID}.desktop"


def autostart_text(command: Sequence[str], *, extra: Sequence[str] = ()) -> str:
    exec_value = entry_escape(exec_line([*command, *extra, "gui", MINIMIZED_FLAG]))
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Aggregator\n"
        "Comment=Sign into your chat accounts when you log in, in the tray\n"
        f"Icon={resources.APP_ID}\n"
        f"TryExec={entry_escape(command[0])}\n"
        f"Exec={exec_value}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def enable(dirs: XdgDirs, command: Sequence[str], *, extra: Sequence[str] = ()) -> Path:
    path = autostart_path(dirs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(autostart_text(command, extra=extra), encoding="utf-8")
    log.info("Wrote the autostart entry %s", path)
    return path


def disable(dirs: XdgDirs) -> bool:
    """Remove our autostart entry; False when there was none."""
    try:
        autostart_path(dirs).unlink()
    except FileNotFoundError:
        return False
    return True


def is_enabled(dirs: XdgDirs) -> bool:
    return autostart_path(dirs).is_file()
