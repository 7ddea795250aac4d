"""The desktop app: ``launch(paths, registry)`` is the ``aggregator.gui`` entry point.

Like ``aggregator run --headless``, the GUI instance holds the profile lock and serves the control
socket, so ``aggregator send`` and ``aggregator status`` work while it runs. The core runs on the
engine thread; the GUI thread only talks to it through the bridge.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import resources
from aggregator.api import AggregatorError
from aggregator.app.application import App, CoreFactory, build_app, default_core
from aggregator.app.desktop import profile_args
from aggregator.app.links import LinkTarget
from aggregator.app.runtime import (
    ControlServer,
    EngineThread,
    InstanceLock,
    ProfileLockedError,
    ProfilePaths,
    ProtocolRegistry,
)
from aggregator.app.types import PersonId
from ui.bridge import Bridge
from ui.context import UiContext
from ui.fonts import add_emoji_font
from ui.icons import app_icon
from ui.main_window import MainWindow
from ui.snapshot import snapshot_file
from ui.snapshot_keeper import SnapshotKeeper, ViewAcrossResets, restore_view
from ui.snapshot_view import SnapshotWindow, take_preview
from ui.startup_gc import freeze_after
from ui.window_requests import WindowRequests
from ui.windows import Windows

log = logging.getLogger(__name__)


@dataclass
class Session:
    """One running GUI instance: lock, engine, core, control socket, window."""

    paths: ProfilePaths
    lock: InstanceLock
    engine: EngineThread
    ctx: UiContext
    control: ControlServer
    window: MainWindow
    windows: Windows
    requests: WindowRequests
    snapshots: SnapshotKeeper | None = None
    views: ViewAcrossResets | None = None
    _closed: bool = False

    def shutdown(self) -> None:
        """Stop the core on the engine (every account disconnects, pending work finishes), then
        release the profile. Called once the window is gone; waiting here blocks no visible UI."""
        if self._closed:
            return
        self._closed = True
        if self.snapshots is not None:
            self.snapshots.flush()  # the list as it was at exit: what the next start paints first
        self.windows.close_all()
        app, control, bridge = self.ctx.app, self.control, self.ctx.bridge

        async def stop() -> None:
            bridge.detach()
            await control.stop()
            await app.stop()

        try:
            self.engine.call(stop(), timeout=60)
        except Exception:
            log.exception("The core did not stop cleanly")
        finally:
            self.engine.stop()
            self.lock.release()


def start_session(
    paths: ProfilePaths, registry: ProtocolRegistry, *, core_factory: CoreFactory = default_core
) -> Session:
    """Lock the profile, build and start the core, show the main window. Needs a QApplication."""
    paths.ensure()
    lock = InstanceLock(paths.lock_file)
    lock.acquire()
    engine = EngineThread()
    engine.start()
    try:
        bridge = Bridge(engine)

        async def build() -> tuple[App, ControlServer]:
            app = build_app(paths, registry, core_factory)
            bridge.attach(app)  # before anything starts, so no event is missed
            control = app.control_server(paths.control_socket)
            await control.start()
            return app, control

        # Startup only (no window yet): opening the archive is quick and local.
        app, control = engine.call(build(), timeout=60)
    except BaseException:
        engine.stop()
        lock.release()
        raise
    ctx = UiContext(bridge=bridge, registry=registry, app=app)
    settings = QSettings(str(paths.config_dir / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, settings)
    freeze_after(window.feed.loaded, window)  # fewer, shorter full collections for the rest of the session
    windows = Windows(ctx, window)
    windows.profile_args = profile_args(paths)
    requests = WindowRequests(ctx, window)
    control.window = requests  # a second launch raises this window (window.raise / window.open)
    snapshots = SnapshotKeeper(window, snapshot_file(paths.data_dir))
    views = ViewAcrossResets(window)
    session = Session(paths, lock, engine, ctx, control, window, windows, requests, snapshots, views)
    bridge.call(app.start(), lambda _r, err: log.error("The core did not start: %s", err) if err else None)
    return session


#: How long the snapshot window waits for the live list before it gives way anyway (a core that
#: fails to load its persons must not leave the user looking at a stale, inert list).
PREVIEW_TIMEOUT_MS = 20_000


def adopt_preview(session: Session, preview: SnapshotWindow) -> None:
    """Keep ``preview`` (painted from the snapshot) on screen until the live window has its persons,
    then show the live window in its place: same geometry and splitter, the preview's selection and
    scroll position, and close the preview once the live one is up."""
    window = session.window
    done: list[bool] = []

    def swap(*_args: object) -> None:
        if done or not preview.isVisible():
            done.append(True)
            return
        done.append(True)
        preview.handed_over = True
        selected, top = preview.view_state()
        window.restoreGeometry(preview.saveGeometry())
        window.splitter.restoreState(preview.splitter.saveState())
        window.show()
        if session.views is not None:
            session.views.restore(selected, top)
        else:
            restore_view(window, selected, top)
        if preview.wanted is not None:
            window.open_person(PersonId(preview.wanted))
        window.raise_()
        window.activateWindow()
        # Closed on the next turn, once the live window is mapped above it: no gap in between.
        QTimer.singleShot(0, preview.close)
        QTimer.singleShot(0, preview.deleteLater)
        log.debug("The live buddy list replaced the snapshot")

    def give_up() -> None:  # the user closed the snapshot window before the live one was there
        done.append(True)
        if window.on_close is not None:
            window.on_close()

    preview.closed_by_user.connect(give_up)
    window.feed.loaded.connect(swap, Qt.ConnectionType.SingleShotConnection)
    QTimer.singleShot(PREVIEW_TIMEOUT_MS, window, swap)


def _check_display() -> None:
    """Qt aborts the process when it cannot reach a display; say so in one line instead."""
    if not sys.platform.startswith("linux"):
        return
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return  # offscreen, vnc, eglfs...: the user chose it
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise AggregatorError(
            "no display to show the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); start it from "
            "your desktop session, or use `aggregator run --headless` to connect and log without a window"
        )


def launch(
    paths: ProfilePaths, registry: ProtocolRegistry, *, minimized: bool = False, link: LinkTarget | None = None
) -> int:
    """Run the window; ``minimized`` starts in the tray (or minimised without one), ``link`` opens that
    conversation once the buddy list is loaded."""
    _check_display()
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Aggregator")
    app.setDesktopFileName(resources.APP_ID)
    app.setWindowIcon(app_icon())
    add_emoji_font()  # emoji in colour, not as boxes
    preview = take_preview()  # the window ``ui.instant`` painted from the snapshot, if it did
    if preview is not None and preview.user_closed:
        return 0  # closed while the program was still loading: the user is done
    try:
        session = start_session(paths, registry)
    except BaseException as exc:
        if preview is not None:
            preview.close()
        if isinstance(exc, ProfileLockedError):
            QMessageBox.critical(None, "Aggregator", f"This profile is already open: {exc}.")
        raise
    session.window.on_close = app.quit
    session.windows.quit_requested.connect(app.quit)
    if preview is not None and not minimized:
        adopt_preview(session, preview)
    elif preview is not None:
        preview.close()
    if not minimized:
        if preview is None:  # else the live window appears in the painted one's place (adopt_preview)
            session.window.show()
    elif session.windows.tray is None:
        session.window.showMinimized()  # no tray to live in: minimised, but reachable from the task bar
    if link is not None:
        target = link
        opened = session.window.feed.loaded
        opened.connect(
            lambda *_a: session.requests.open(target, wait_for_accounts=True), Qt.ConnectionType.SingleShotConnection
        )
    session.windows.first_run_check()
    try:
        return int(app.exec())
    finally:
        session.shutdown()
