"""The log viewer's context pane: the selected hit with the messages before and after it, read-only.

Bodies go through the same escaping as the conversation view (``message_html``); the hit is marked.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from aggregator.archive.records import StoredMessage
from aggregator.search.service import Context
from ui.message_view import HIGHLIGHT_STYLE, message_html


class ContextView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setAccessibleName("Context of the selected result")
        self.document().setDocumentMargin(8)
        self.setPlaceholderText("Select a result to see the messages before and after it.")
        self.anchorClicked.connect(self._open_link)
        self.shown: Context | None = None

    @staticmethod
    def _open_link(url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def show_context(self, context: Context | None, title: str = "") -> None:
        self.shown = context
        if context is None:
            self.clear()
            return
        messages: list[StoredMessage] = [*context.before, context.message, *context.after]
        parts = []
        hit_block = 0
        if title:
            parts.append(f'<p style="color:#808080">{html.escape(title)}</p>')
        for i, m in enumerate(messages):
            day = m.sent_at.astimezone().strftime("%Y-%m-%d")
            new_day = i == 0 or messages[i - 1].sent_at.astimezone().strftime("%Y-%m-%d") != day
            if new_day:
                parts.append(f'<p style="color:#808080; font-size:small">— {day} —</p>')
            show_account = i > 0 and messages[i - 1].account_id != m.account_id
            body = message_html(m, show_account=show_account)
            if m.id == context.message.id:
                hit_block = len(parts)
                parts.append(f'<p style="{HIGHLIGHT_STYLE}">{body}</p>')
            else:
                parts.append(f"<p>{body}</p>")
        self.setHtml("".join(parts))
        block = self.document().findBlockByNumber(hit_block)
        self.setTextCursor(QTextCursor(block))
        top = self.document().documentLayout().blockBoundingRect(block).top()
        bar = self.verticalScrollBar()
        bar.setValue(max(bar.minimum(), min(bar.maximum(), int(top) - self.viewport().height() // 3)))
