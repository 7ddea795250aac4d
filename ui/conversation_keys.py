"""Keyboard for the conversation tabs: Ctrl+Tab / Ctrl+PgDown next, Ctrl+Shift+Tab / Ctrl+PgUp previous
(both wrap around), Ctrl+W closes the current tab."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget

NEXT = ("Ctrl+Tab", "Ctrl+PgDown")
PREVIOUS = ("Ctrl+Shift+Backtab", "Ctrl+PgUp")
CLOSE = "Ctrl+W"


def move(pane: QTabWidget, step: int) -> None:
    if pane.count() > 1:
        pane.setCurrentIndex((pane.currentIndex() + step) % pane.count())
        current = pane.currentWidget()
        if current is not None:
            current.setFocus()


def install_tab_keys(pane: QTabWidget) -> None:
    def shortcut(keys: str) -> QShortcut:
        return QShortcut(QKeySequence(keys), pane, context=Qt.ShortcutContext.WindowShortcut)

    for keys in NEXT:
        shortcut(keys).activated.connect(lambda: move(pane, 1))
    for keys in PREVIOUS:
        shortcut(keys).activated.connect(lambda: move(pane, -1))
    shortcut(CLOSE).activated.connect(
        lambda: pane.tabCloseRequested.emit(pane.currentIndex()) if pane.count() else None
    )
