"""The tray icon (where the desktop has a tray): unread count, status, show/hide, quit."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from aggregator.api import PresenceKind
from ui.icons import presence_icon
from ui.status_selector import CHOICES, StatusSelector


class Tray(QObject):
    quit_requested = Signal()

    def __init__(self, window: QWidget, status: StatusSelector, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._status = status
        self.icon = QSystemTrayIcon(presence_icon(PresenceKind.AVAILABLE), self)
        self.menu = QMenu()
        self.toggle_action = QAction("Hide window", self)
        self.toggle_action.triggered.connect(self.toggle_window)
        self.menu.addAction(self.toggle_action)
        self.menu.addSeparator()
        group = QActionGroup(self)
        for kind, label in CHOICES:
            action = QAction(presence_icon(kind), label, self)
            action.triggered.connect(lambda _c=False, k=kind: status.set_kind(k))
            group.addAction(action)
            self.menu.addAction(action)
        self.menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.set_unread(0)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def set_unread(self, total: int) -> None:
        self.icon.setToolTip(f"Aggregator: {total} unread" if total else "Aggregator")

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def toggle_window(self) -> None:
        if self._window.isVisible():
            self._window.hide()
            self.toggle_action.setText("Show window")
        else:
            self._window.show()
            self._window.raise_()
            self._window.activateWindow()
            self.toggle_action.setText("Hide window")
