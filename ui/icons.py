"""Small icons drawn at run time (no image files to ship): presence dots, with an unread badge."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

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


def _dot(kind: PresenceKind, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor(PRESENCE_COLORS[kind])
    pen = QPen(color.darker(130))
    pen.setWidthF(size / 32)
    painter.setPen(pen)
    painter.setBrush(color if kind.is_online else Qt.GlobalColor.transparent)
    margin = size * 6 / 32
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    painter.end()
    return pixmap


def presence_icon(kind: PresenceKind) -> QIcon:
    icon = _cache.get(kind)
    if icon is None:
        icon = QIcon(_dot(kind, 32))
        _cache[kind] = icon
    return icon


def badge_icon(kind: PresenceKind, count: int) -> QIcon:
    """The presence dot with the unread count painted on it (``99+`` above 99); the plain dot at 0."""
    size = 64
    pixmap = _dot(kind, size)
    if count <= 0:
        return QIcon(pixmap)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    text = str(count) if count < 100 else "99+"
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(26 if len(text) < 3 else 20)
    painter.setFont(font)
    width = max(34, painter.fontMetrics().horizontalAdvance(text) + 12)
    badge = QRectF(size - width, 0, width, 34)
    outline = QPen(QColor("white"))
    outline.setWidthF(3)  # keeps the badge apart from a red (busy) dot
    painter.setPen(outline)
    painter.setBrush(QColor("#d62d20"))
    painter.drawRoundedRect(badge.adjusted(1.5, 1.5, -1.5, -1.5), 15.5, 15.5)
    painter.setPen(QColor("white"))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)
