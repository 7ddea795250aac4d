"""The full-disk warning at the top of the main window: shown while the archive cannot store anything
(the core's ``ArchiveStorageChanged``), gone by itself when it can again. Plain text."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from aggregator.events import ArchiveStorageChanged
from ui.context import UiContext

log = logging.getLogger(__name__)

_STYLE = (
    "QFrame#storageWarning { background: #f8d7da; border: 1px solid #c9302c; border-radius: 4px; }"
    " QFrame#storageWarning QLabel { color: #58151c; }"
)


def warning_text(reason: str) -> str:
    return (
        f"Messages cannot be stored: {reason}. Accounts are held offline (their servers keep new messages) "
        "and reconnect by themselves once there is space; sending is refused until then."
    )


class StorageBanner(QFrame):
    """Hidden until the archive stops taking writes; hidden again when it takes them."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storageWarning")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName("Storage warning")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        self.hide()
        ctx.bridge.archive_storage.connect(self.update_state)

    def update_state(self, event: object) -> None:
        if not isinstance(event, ArchiveStorageChanged):
            return
        if event.writable:
            self.label.clear()
            self.hide()
        else:
            self.label.setText(warning_text(event.reason))
            self.show()
