"""A slim, buddy-list-only main window (docked at a screen edge, as Trillian users keep it).

Below ``SLIM_WIDTH`` the conversation area hides and the buddy list fills the window; wider, it comes
back. The conversation area asks for little width of its own (``CONVERSATION_MIN_WIDTH``), so that the
window can be made narrow at all: without that, the tab's widgets (the "Reply on" choice, the tab bar)
and the accounts strip added up to a minimum of 700 px and more. Opening a conversation in a slim
window widens it again, to show what was opened.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, SignalInstance
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTabWidget, QWidget

log = logging.getLogger(__name__)

#: Narrower than this, the window is a buddy list only.
SLIM_WIDTH = 480
#: What the conversation area may be squeezed to in a wide window.
CONVERSATION_MIN_WIDTH = 220
#: How wide a slim window grows when a conversation is opened in it.
WIDE_WIDTH = 760


class SlimLayout(QObject):
    """Watches the window's width and shows or hides the conversation area (``right``)."""

    def __init__(self, window: QWidget, splitter: QSplitter, right: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._splitter = splitter
        self._right = right
        right.setMinimumWidth(CONVERSATION_MIN_WIDTH)
        splitter.setCollapsible(0, False)
        splitter.setCollapsible(splitter.indexOf(right), False)
        window.installEventFilter(self)

    @property
    def slim(self) -> bool:
        return self._right.isHidden()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self._apply(self._window.width())
        return False

    def _apply(self, width: int) -> None:
        slim = width < SLIM_WIDTH
        if slim != self.slim:
            log.debug("Main window %d px wide: %s", width, "buddy list only" if slim else "with conversations")
            self._right.setVisible(not slim)

    def follow(self, tree: QAbstractItemView, tabs: QTabWidget, loaded: SignalInstance) -> None:
        """Widen for a conversation the user opens: from the list (``tree``), or any other way (a tab
        made current: the quick switcher, a notification) once the tabs of the last run are back
        (after the first ``loaded``)."""
        tree.activated.connect(lambda _index: self.show_conversations())
        loaded.connect(
            lambda *_a: tabs.currentChanged.connect(lambda _i: self.show_conversations()),
            Qt.ConnectionType.SingleShotConnection,
        )

    def show_conversations(self) -> None:
        """A conversation was opened: a slim window grows to show it."""
        if self.slim:
            self._window.resize(max(WIDE_WIDTH, self._window.width()), self._window.height())
