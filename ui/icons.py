"""Small icons drawn at run time (no image files to ship): presence dots."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from aggregator.api import PresenceKind

PRESENCE_COLORS = {
    PresenceKind.AVAILABLE: "#2e9d3a",
    PresenceKind.AWAY: "#e0a100",
    PresenceKind.EXTENDED_AWAY: "#c46a00",
    PresenceKind.BUSY: "#cc2b2b",
    PresenceKind.INVISIBLE: "#7a7a9a",
    PresenceKind.OFFLINE: "#a0a0a0",
}

_cache: dict[PresenceKind, QIcon] = {}


def presence_icon(kind: PresenceKind) -> QIcon:
    icon = _cache.get(kind)
    if icon is None:
        size = 32
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(PRESENCE_COLORS[kind])
        painter.setPen(color.darker(130))
        painter.setBrush(color if kind.is_online else Qt.GlobalColor.transparent)
        painter.drawEllipse(QRectF(6, 6, size - 12, size - 12))
        painter.end()
        icon = QIcon(pixmap)
        _cache[kind] = icon
    return icon
