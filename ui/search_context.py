"""The log viewer's context pane: the selected hit with the messages before and after it, read-only.

It reads as the conversation view does (``ui.timeline_text``): the same day separators ("Today",
"Yesterday", a weekday, the full date), the same senders' names (``SenderNames``, read on the engine
thread with the context), the same escaped rows and the same plain-text tooltip (full date, address,
account). The hit is marked; in a room, messages that mention us are highlighted.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QEvent, QPoint, QUrl
from PySide6.QtGui import QDesktopServices, QHelpEvent, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QToolTip, QWidget

from aggregator.app.names import SenderNames
from aggregator.app.types import Context, StoredMessage
from ui.message_view import highlight_style
from ui.theme_colors import current as theme_colors
from ui.timeline_text import day_label, local_day, message_html, tooltip

log = logging.getLogger(__name__)


class ContextView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setAccessibleName("Context of the selected result")
        self.document().setDocumentMargin(8)
        self.setPlaceholderText("Select a result to see the messages before and after it.")
        self.anchorClicked.connect(self._open_link)
        self.shown: Context | None = None
        self.names = SenderNames()
        self.today: Callable[[], date] = date.today  # what "Today" is (tests may set their own)
        self._blocks: list[StoredMessage | None] = []  # what each block shows (None: a title or separator)

    @staticmethod
    def _open_link(url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def show_context(self, context: Context | None, names: SenderNames | None = None, title: str = "") -> None:
        """Show ``context``, its senders named by ``names`` (as the conversation's tab names them)."""
        self.shown = context
        self.names = names or SenderNames()
        self._blocks = []
        if context is None:
            self.clear()
            return
        messages: list[StoredMessage] = [*context.before, context.message, *context.after]
        parts = []
        hit_block = 0
        colors = theme_colors()
        mention_style = f"background-color:{colors.mention}; color:{colors.marked_text}"
        separator_style = f"color:{colors.separator}; font-weight:bold; margin-top:10px; margin-bottom:4px"
        if title:
            parts.append(f'<p style="color:{colors.dim}">{html.escape(title)}</p>')
            self._blocks.append(None)
        today = self.today()
        for i, m in enumerate(messages):
            if i == 0 or local_day(messages[i - 1].sent_at) != local_day(m.sent_at):
                label = html.escape(day_label(local_day(m.sent_at), today))
                parts.append(f'<p align="center" style="{separator_style}">\u2014 {label} \u2014</p>')
                self._blocks.append(None)
            show_account = i > 0 and messages[i - 1].account_id != m.account_id
            body = message_html(m, show_account=show_account, names=self.names)
            if m.id == context.message.id:
                hit_block = len(parts)
                parts.append(f'<p style="{highlight_style()}">{body}</p>')
            elif self.names.mentions_us(m):
                parts.append(f'<p style="{mention_style}">{body}</p>')
            else:
                parts.append(f"<p>{body}</p>")
            self._blocks.append(m)
        self.setHtml("".join(parts))
        if self.document().blockCount() != len(self._blocks):  # a row spanning blocks: no tooltips
            log.warning("The context pane has %d blocks for %d rows", self.document().blockCount(), len(parts))
            self._blocks = []
        block = self.document().findBlockByNumber(hit_block)
        self.setTextCursor(QTextCursor(block))
        top = self.document().documentLayout().blockBoundingRect(block).top()
        bar = self.verticalScrollBar()
        bar.setValue(max(bar.minimum(), min(bar.maximum(), int(top) - self.viewport().height() // 3)))

    # -- tooltips -----------------------------------------------------------------------------------

    def message_at(self, pos: QPoint) -> StoredMessage | None:
        """The message shown at ``pos`` (viewport coordinates); None on a separator or below the last."""
        block = self.cursorForPosition(pos).block()
        number = block.blockNumber()
        if not block.isValid() or not 0 <= number < len(self._blocks):
            return None
        box = self.document().documentLayout().blockBoundingRect(block)
        y = pos.y() + self.verticalScrollBar().value()
        return self._blocks[number] if box.top() <= y <= box.bottom() else None

    def tooltip_at(self, pos: QPoint) -> str:
        """The plain-text tooltip of the message at ``pos``, as in the conversation view ("" elsewhere)."""
        message = self.message_at(pos)
        return "" if message is None else tooltip(message, self.names)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                tip = f'<p style="white-space:pre">{html.escape(text)}</p>'  # text, on unwrapped lines
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
