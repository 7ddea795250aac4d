"""Paints a buddy-list row: presence dot, name, status text, the protocols, an unread badge (a room:
joined dot, address, topic, member count)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ui.models.roster_model import KIND_ROLE, PERSON, PROTOCOLS_ROLE, ROOM, SPHERE, STATUS_ROLE, UNREAD_ROLE

Index = QModelIndex | QPersistentModelIndex


def fitted(metrics: QFontMetrics, text: str, width: int) -> str:
    """``text`` elided to ``width`` pixels; whole when its (rounded) advance fits. Eliding to exactly its
    own advance clipped every label ("Fake (testin…") by a fraction of a pixel."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


class RosterDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        height = option.fontMetrics.height()
        return QSize(size.width(), max(size.height(), int(height * 1.7)))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        kind = index.data(KIND_ROLE)
        if kind not in (PERSON, "contact", ROOM):
            opt = QStyleOptionViewItem(option)
            self.initStyleOption(opt, index)
            if kind == SPHERE:
                opt.font.setBold(True)
            super().paint(painter, opt, index)
            return
        widget: QWidget | None = option.widget
        style = QApplication.style() if widget is None else widget.style()
        painter.save()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        text_color = palette.highlightedText().color() if selected else palette.text().color()
        dim = palette.highlightedText().color() if selected else palette.placeholderText().color()
        rect: QRect = option.rect.adjusted(4, 0, -6, 0)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        icon_size = min(rect.height() - 4, 18)
        if isinstance(icon, QIcon):
            icon.paint(painter, QRect(rect.left(), rect.center().y() - icon_size // 2, icon_size, icon_size))
        rect.setLeft(rect.left() + icon_size + 6)

        unread = int(index.data(UNREAD_ROLE) or 0)
        if unread:
            badge_font = QFont(option.font)
            badge_font.setBold(True)
            badge_font.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
            painter.setFont(badge_font)
            text = str(unread) if unread < 1000 else "999+"
            width = painter.fontMetrics().horizontalAdvance(text) + 12
            height = painter.fontMetrics().height() + 2
            badge = QRect(rect.right() - width, rect.center().y() - height // 2, width, height)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.highlight() if not selected else palette.base())
            painter.drawRoundedRect(badge, height / 2, height / 2)
            painter.setPen(palette.highlightedText().color() if not selected else palette.text().color())
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            rect.setRight(badge.left() - 6)

        protocols = str(index.data(PROTOCOLS_ROLE) or "")
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        if protocols:
            painter.setFont(small)
            painter.setPen(dim)
            width = min(painter.fontMetrics().horizontalAdvance(protocols), rect.width() // 3)
            proto_rect = QRect(rect.right() - width, rect.top(), width, rect.height())
            elided = fitted(painter.fontMetrics(), protocols, width)
            painter.drawText(proto_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, elided)
            rect.setRight(proto_rect.left() - 8)

        name_font = QFont(option.font)
        name_font.setBold(unread > 0)
        painter.setFont(name_font)
        painter.setPen(text_color)
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        name_width = min(painter.fontMetrics().horizontalAdvance(name), rect.width())
        elided = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)

        status = str(index.data(STATUS_ROLE) or "")
        if status and name_width + 20 < rect.width():
            status_rect = rect.adjusted(name_width + 10, 0, 0, 0)
            painter.setFont(small)
            painter.setPen(dim)
            text = painter.fontMetrics().elidedText(status, Qt.TextElideMode.ElideRight, status_rect.width())
            painter.drawText(status_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.restore()
