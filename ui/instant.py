"""The ``aggregator`` command's first step: paint the last buddy list, then load everything else.

For a plain window start (``aggregator``, ``aggregator gui``, each with ``--home DIR``), when no
instance runs yet and the profile has a readable snapshot (``ui.snapshot``), this imports Qt and the
snapshot reader only, shows ``SnapshotWindow`` and lets it paint; then it runs the normal command
line (``aggregator.cli.main``), whose window start (``ui.app.launch``) takes the painted window over
and replaces it with the live one once the persons are loaded. Anything else (another command, a
link, ``--minimized``, ``-v``, ``--database``, no display, no snapshot, a corrupt one) goes straight
to the normal command line, as before.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import resources
from aggregator.app.paths import ProfilePaths
from ui.snapshot import read_snapshot, snapshot_file

log = logging.getLogger(__name__)

#: The longest the light start waits for the first paint before it loads the core anyway.
PAINT_TIMEOUT_MS = 2_000


def plain_window_start(args: Sequence[str]) -> tuple[bool, str | None]:
    """(is this a plain window start, its ``--home``). Only the simplest command lines qualify."""
    rest = list(args)
    home: str | None = None
    if rest[:1] == ["--home"] and len(rest) >= 2:
        home, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--home="):
        home, rest = rest[0].partition("=")[2], rest[1:]
    return rest in ([], ["gui"]), home


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _instance_answers(control_socket: Path) -> bool:
    """Something listens on the profile's control socket: the running instance raises its window."""
    family = getattr(socket, "AF_UNIX", None)
    if family is None or not control_socket.exists():
        return False
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(str(control_socket))
        except OSError:
            return False
    return True


def paint_preview(home: str | None) -> bool:
    """Show the snapshot window and wait for its first paint; False when there is nothing to show
    (the normal start paints from the archive)."""
    paths = ProfilePaths.resolve(home)
    if not _has_display() or _instance_answers(paths.control_socket):
        return False
    snapshot = read_snapshot(snapshot_file(paths.data_dir))
    if snapshot is None:
        return False

    from PySide6.QtCore import QEvent, QEventLoop, QObject, QSize, QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from ui.snapshot_view import SnapshotWindow, offer_preview

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Aggregator")
    app.setDesktopFileName(resources.APP_ID)
    icon = QIcon()  # the files, read when first drawn (ui.app sets the full icon once it loads)
    for size in (16, 32, 48, 256):
        icon.addFile(str(resources.app_icon_png(size)), QSize(size, size))
    app.setWindowIcon(icon)
    window = SnapshotWindow(snapshot, paths.config_dir / "ui.ini")
    loop = QEventLoop()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, loop.quit)  # after this paint has finished
            return False

    watcher = FirstPaint(window)
    window.tree.viewport().installEventFilter(watcher)
    window.show()
    window.restore_view()
    QTimer.singleShot(PAINT_TIMEOUT_MS, loop.quit)
    loop.exec()
    window.tree.viewport().removeEventFilter(watcher)
    offer_preview(window)
    return True


#: Imported one by one after the paint, with the window's events handled in between, so the painted
#: window repaints when uncovered and takes a double-click while the rest loads (each step is a large
#: part of the ~1 s, the core and SQLAlchemy come with ``aggregator.app.application``).
WARM_UP = ("aggregator.api", "aggregator.app.application", "aggregator.cli.main", "ui.main_window", "ui.app")


def warm_up() -> None:
    import importlib

    from PySide6.QtWidgets import QApplication

    for name in WARM_UP:
        try:
            importlib.import_module(name)
        except ImportError:
            log.debug("Not warmed up: %s", name)
        QApplication.processEvents()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    plain, home = plain_window_start(args)
    if plain:
        try:
            if paint_preview(home):
                warm_up()
        except Exception:  # the light start must never cost the user the real one
            log.exception("Could not paint the buddy list from its snapshot")
    from aggregator.cli.main import main as cli_main

    return cli_main(args)
