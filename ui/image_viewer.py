"""A picture from a conversation at full size, in its own window (click a thumbnail). Only clean files
are ever shown; Qt's own image readers decode them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImageReader, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QLabel, QScrollArea, QVBoxLayout, QWidget


class ImageViewer(QDialog):
    def __init__(self, path: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        image = reader.read()
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAccessibleName(title)
        if image.isNull():
            self.label.setText(f"This picture cannot be shown: {reader.errorString()}")
        else:
            self.label.setPixmap(QPixmap.fromImage(image))
        scroll = QScrollArea()
        scroll.setWidget(self.label)
        scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width = min(image.width() + 24, screen.width() * 9 // 10) if screen else image.width() + 24
        height = min(image.height() + 24, screen.height() * 9 // 10) if screen else image.height() + 24
        self.resize(max(width, 240), max(height, 160))
        close = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close.activated.connect(self.close)
