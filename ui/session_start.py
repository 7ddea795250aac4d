""""Start with my session": the Preferences box that writes or removes the XDG autostart entry
(``aggregator gui --minimized``: the app starts in the tray)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtWidgets import QCheckBox, QGroupBox, QVBoxLayout, QWidget

from aggregator.desktop import autostart
from aggregator.desktop.xdg import XdgDirs, launcher

log = logging.getLogger(__name__)


class SessionStartBox(QGroupBox):
    def __init__(self, profile_args: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__("Session", parent)
        self._extra = list(profile_args)
        self.start_with_session = QCheckBox("Start with my session (in the tray)")
        self.start_with_session.setAccessibleName("Start with my session")
        layout = QVBoxLayout(self)
        layout.addWidget(self.start_with_session)
        self.reload()

    def reload(self) -> None:
        self.start_with_session.setChecked(autostart.is_enabled(XdgDirs.from_env()))

    def apply(self) -> str | None:
        """Write or remove the autostart entry as the box says; the problem, if it could not."""
        dirs = XdgDirs.from_env()
        wanted = self.start_with_session.isChecked()
        if wanted == autostart.is_enabled(dirs):
            return None
        try:
            if wanted:
                autostart.enable(dirs, launcher(), extra=self._extra)
            else:
                autostart.disable(dirs)
        except OSError as exc:
            log.warning("Could not change the autostart entry: %s", exc)
            return f"could not change the autostart entry: {exc.strerror or exc}"
        return None
