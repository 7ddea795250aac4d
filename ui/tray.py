"""The tray icon (where the desktop has a tray): own presence with the unread count, status, show/hide, quit."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from aggregator.api import PresenceKind
from ui.icons import badge_icon
from ui.status_selector import CHOICES, LABELS, StatusSelector


class Tray(QObject):
    quit_requested = Signal()

    def __init__(self, window: QWidget, status: StatusSelector, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._status = status
        self.kind = PresenceKind.AVAILABLE
        self.unread = 0
        self.icon = QSystemTrayIcon(badge_icon(self.kind, 0), self)
        self.menu = QMenu()
        self.menu.setAccessibleName("Aggregator")
        self.toggle_action = QAction("Hide window", self)
        self.toggle_action.triggered.connect(self.toggle_window)
        self.menu.addAction(self.toggle_action)
        self.menu.addSeparator()
        self.status_actions: dict[PresenceKind, QAction] = {}
        group = QActionGroup(self)
        for kind, label in CHOICES:
            action = QAction(badge_icon(kind, 0), label, self, checkable=True)
            action.triggered.connect(lambda _c=False, k=kind: status.set_kind(k))
            group.addAction(action)
            self.menu.addAction(action)
            self.status_actions[kind] = action
        self.menu.addSeparator()
        self.quit_action = QAction("Quit", self)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.quit_action)
        self.menu.aboutToShow.connect(self._sync_toggle)  # the window may have been closed into the tray
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        status.global_changed.connect(self.set_presence)
        self.set_presence(status.book.global_status.kind)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def set_unread(self, total: int) -> None:
        self.unread = total
        self._refresh()

    def set_presence(self, kind: PresenceKind) -> None:
        self.kind = kind
        action = self.status_actions.get(kind)
        if action is not None:
            action.setChecked(True)
        self._refresh()

    def _refresh(self) -> None:
        self.icon.setIcon(badge_icon(self.kind, self.unread))
        tip = f"Aggregator: {LABELS[self.kind]}"
        self.icon.setToolTip(f"{tip}, {self.unread} unread" if self.unread else tip)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def _sync_toggle(self) -> None:
        self.toggle_action.setText("Hide window" if self._window.isVisible() else "Show window")

    def toggle_window(self) -> None:
        if self._window.isVisible():
            self._window.hide()
            self.toggle_action.setText("Show window")
        else:
            self._window.show()
            self._window.raise_()
            self._window.activateWindow()
            self.toggle_action.setText("Hide window")
