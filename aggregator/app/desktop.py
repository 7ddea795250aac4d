"""Desktop integration for the front ends: the menu entry and icons, starting with the session, and the
``xmpp:``/``matrix:``/``irc:``/``aggregator:`` links a launch or the control socket hands over.

``Desktop`` is what the CLI's ``desktop`` command does, for one profile (its launcher carries the
profile's ``--home``). The window's session-start switch still calls ``autostart`` with ``XdgDirs``,
``launcher`` and ``profile_args`` (``ui.session_start``, ``ui.app``); they are the values of
``aggregator.desktop``, the implementation.
"""

from __future__ import annotations

from pathlib import Path

from aggregator.desktop import autostart
from aggregator.desktop import install as menu
from aggregator.desktop.uri import BadLinkError, LinkTarget, parse_link
from aggregator.desktop.xdg import XdgDirs, launcher, profile_args
from aggregator.paths import ProfilePaths

__all__ = [
    "BadLinkError",
    "Desktop",
    "LinkTarget",
    "XdgDirs",
    "autostart",
    "launcher",
    "parse_link",
    "profile_args",
]


class Desktop:
    """The desktop's directories (``$XDG_DATA_HOME``, ``$XDG_CONFIG_HOME``) and the launch command of
    one profile."""

    def __init__(self, dirs: XdgDirs, extra: list[str]) -> None:
        self.dirs = dirs
        self._extra = extra

    @classmethod
    def for_profile(cls, paths: ProfilePaths) -> Desktop:
        return cls(XdgDirs.from_env(), profile_args(paths))

    @property
    def data_home(self) -> Path:
        return self.dirs.data_home

    def install(self) -> list[Path]:
        """Write the menu entry, the metainfo, the icons and the link handlers; the files written."""
        return menu.install(self.dirs, launcher(), extra=self._extra)

    def is_installed(self) -> bool:
        return menu.is_installed(self.dirs)

    def uninstall(self) -> list[Path]:
        """Remove exactly what ``install`` wrote; the files removed."""
        return menu.uninstall(self.dirs)

    def autostart_enabled(self) -> bool:
        return autostart.is_enabled(self.dirs)

    def enable_autostart(self) -> Path:
        """Start with the session, in the tray; the autostart entry's path."""
        return autostart.enable(self.dirs, launcher(), extra=self._extra)

    def disable_autostart(self) -> bool:
        """Whether there was an autostart entry to remove."""
        return autostart.disable(self.dirs)
