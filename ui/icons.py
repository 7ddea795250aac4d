"""The app's icons from ``resources/`` (drawn for this project): presence, protocols, the app itself;
and the presence icon with an unread badge painted on it (the tray)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer

import resources
from aggregator.api import PresenceKind

#: The main colour of each presence icon in resources/presence (mid-tones: 3:1 on light and on dark).
PRESENCE_COLORS = {
    PresenceKind.AVAILABLE: "#2a8a36",
    PresenceKind.AWAY: "#b87d00",
    PresenceKind.EXTENDED_AWAY: "#b35c00",
    PresenceKind.BUSY: "#d12f2f",
    PresenceKind.INVISIBLE: "#6f6f80",
    PresenceKind.OFFLINE: "#767676",
}

PRESENCE_FILES = {
    PresenceKind.AVAILABLE: "available",
    PresenceKind.AWAY: "away",
    PresenceKind.EXTENDED_AWAY: "extended-away",
    PresenceKind.BUSY: "busy",
    PresenceKind.INVISIBLE: "invisible",
    PresenceKind.OFFLINE: "offline",
}

_cache: dict[PresenceKind, QIcon] = {}
_svg_cache: dict[str, bytes] = {}


def _svg_pixmap(data: bytes, size: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(data))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


def _svg_icon(data: bytes, sizes: tuple[int, ...] = (16, 24, 32, 48, 64)) -> QIcon:
    icon = QIcon()
    for size in sizes:
        icon.addPixmap(_svg_pixmap(data, size))
    return icon


def _presence_svg(kind: PresenceKind) -> bytes:
    name = PRESENCE_FILES[kind]
    data = _svg_cache.get(name)
    if data is None:
        data = _svg_cache[name] = resources.presence_svg(name).read_bytes()
    return data


def _dot(kind: PresenceKind, size: int) -> QPixmap:
    return _svg_pixmap(_presence_svg(kind), size)


def presence_icon(kind: PresenceKind) -> QIcon:
    icon = _cache.get(kind)
    if icon is None:
        icon = _svg_icon(_presence_svg(kind))
        _cache[kind] = icon
    return icon


def protocol_icon(protocol: str) -> QIcon:
    """The badge of ``xmpp``, ``matrix`` or ``irc``; an empty icon for any other protocol."""
    if protocol not in resources.PROTOCOL_BADGES:
        return QIcon()
    return _svg_icon(resources.protocol_svg(protocol).read_bytes())


def app_icon() -> QIcon:
    icon = QIcon()
    for size in resources.ICON_SIZES:
        pixmap = QPixmap()
        pixmap.loadFromData(resources.app_icon_png(size).read_bytes(), "PNG")
        icon.addPixmap(pixmap)
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
