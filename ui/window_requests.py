"""A second launch or a clicked link, handed over the control socket: raise the window, open a chat.

``raise_window`` and ``open_link`` are called on the engine thread (the control server); they only
emit signals, which Qt queues to this object's (the GUI) thread. A link never joins a room or adds a
contact by itself: an unknown room opens the Join dialog filled in, an unknown person a status message.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from aggregator.api import ContactRef, ConversationKind
from aggregator.app.links import LinkTarget, Resolved
from ui.context import UiContext
from ui.main_window import MainWindow

log = logging.getLogger(__name__)

STATUS_MS = 10_000
#: A link given at start-up waits this long for the accounts to bring the person or room in.
START_WAIT_S = 30.0
RETRY_MS = 500


class WindowRequests(QObject):
    raise_requested = Signal()
    link_requested = Signal(object)

    def __init__(self, ctx: UiContext, window: MainWindow) -> None:
        super().__init__(window)
        self._ctx = ctx
        self._window = window
        self.raise_requested.connect(self.show_window, Qt.ConnectionType.QueuedConnection)
        self.link_requested.connect(self.open, Qt.ConnectionType.QueuedConnection)
        self._pending: LinkTarget | None = None
        self._deadline = 0.0
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._try_pending)

    # -- engine thread (aggregator.control.window_ops.WindowHandler) ------------------------------

    def raise_window(self) -> None:
        self.raise_requested.emit()

    def open_link(self, target: LinkTarget) -> None:
        self.link_requested.emit(target)

    # -- GUI thread --------------------------------------------------------------------------------

    def show_window(self) -> None:
        window = self._window
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()

    def open(self, target: LinkTarget, *, wait_for_accounts: bool = False) -> None:
        """Open the link's conversation; ``wait_for_accounts`` (a link given at start-up) keeps trying for
        a while as the accounts connect and bring their contacts and rooms in."""
        self.show_window()
        self._pending = target if wait_for_accounts else None
        self._deadline = time.monotonic() + START_WAIT_S
        self._resolve(target)

    def _resolve(self, target: LinkTarget) -> None:
        app = self._ctx.app
        self._ctx.bridge.run(lambda: app.resolve_link(target), lambda r, e: self._resolved(target, r, e))

    def _try_pending(self) -> None:
        if self._pending is not None:
            self._resolve(self._pending)

    def _wait_more(self, target: LinkTarget) -> bool:
        if self._pending is target and time.monotonic() < self._deadline:
            self._retry.start()
            return True
        self._pending = None
        return False

    def _resolved(self, target: LinkTarget, found: Resolved | None, error: BaseException | None) -> None:
        window = self._window
        if error is not None or found is None:
            log.error("Could not open the link: %s", error)
            return
        if not found.keys:
            where = f" on {target.host}" if target.host else ""
            window.statusBar().showMessage(
                f"No {target.protocol or 'such'} account{where} to open {target.handle} with", STATUS_MS
            )
            return
        if target.kind is ConversationKind.ROOM:
            for key in found.keys:
                if window.rooms.open(key) is not None:
                    self._pending = None
                    return
            if self._wait_more(target):
                return
            dialog = window.rooms.show_join_dialog()
            dialog.address.setText(target.handle)
            return
        if found.person is None or found.key is None:
            if self._wait_more(target):
                return
            window.statusBar().showMessage(f"{target.handle} is not in your buddy list yet", STATUS_MS)
            return
        self._pending = None
        tab = window.open_person(found.person)
        if tab is None:
            return
        tab.choose_reply_target(ContactRef(found.key.account_id, found.key.handle))
        if target.body and not tab.input.toPlainText():
            tab.input.setPlainText(target.body)
        tab.input.setFocus()
