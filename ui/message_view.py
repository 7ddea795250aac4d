"""A read-only view of a ConversationModel: the timeline as rich text built from escaped bodies.

Scrolling to the top asks the model for the previous page; new messages at the end keep the view
pinned to the bottom if it was there. Links open in the desktop's browser (http and https only).
Opened at a search hit, the hit is highlighted and scrolled to, and scrolling to the bottom asks the
model for the next page.
"""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPoint, QUrl, Signal
from PySide6.QtGui import QContextMenuEvent, QDesktopServices, QTextCursor
from PySide6.QtWidgets import QMenu, QTextBrowser, QWidget

from aggregator.api import MessageKind, MessageState
from aggregator.archive.records import Direction, StoredMessage
from ui.models.conversation_model import ConversationModel
from ui.richtext import linkify

HIGHLIGHT_STYLE = "background-color:#fff0a0; color:#000000"

STATE_MARKS = {
    MessageState.PENDING: ("…", "sending"),
    MessageState.SENT: ("✓", "sent"),
    MessageState.DELIVERED: ("✓✓", "delivered"),
    MessageState.READ: ("✓✓ read", "read"),
}


RETRY_SCHEME = "retry"


def _time(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M")


def message_html(message: StoredMessage, *, show_account: bool = False) -> str:
    if message.direction is Direction.OUT:
        who = "me"
        color = "#1f5fbf"
    else:
        who = message.sender_name or message.sender
        color = "#a23b00"
    body = linkify(message.body)
    if message.kind is MessageKind.ACTION:
        actor = message.sender_name or message.sender  # "* alice waves", never "* me waves"
        line = f'<span style="color:{color}">* {html.escape(actor)}</span> {body}'
    else:
        line = f'<b style="color:{color}">{html.escape(who)}:</b> {body}'
    stamp = f'<span style="color:#808080">{_time(message.sent_at)}</span> '
    tail = ""
    if message.direction is Direction.OUT:
        if message.state is MessageState.FAILED:
            reason = f": {html.escape(message.error)}" if message.error else ""
            retry = f'<a href="{RETRY_SCHEME}:{message.id}">Retry</a>'
            tail = f' <span style="color:#c00000">✗ failed{reason}</span> {retry}'
        elif message.state in STATE_MARKS:
            mark, _label = STATE_MARKS[message.state]
            tail = f' <span style="color:#808080">{mark}</span>'
    account = ""
    if show_account:
        account = f'<span style="color:#808080; font-size:small">[on {html.escape(message.account_id)}]</span> '
    return f"{account}{stamp}{line}{tail}"


class MessageView(QTextBrowser):
    retry_requested = Signal(object)  # the id (an int, 64 bits) of a failed message of ours to send again

    def __init__(self, model: ConversationModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.highlighted_id: int | None = None  # the message id shown highlighted (a search hit)
        self.newer_paging = True  # False while a window is being placed: only the user's scrolling loads
        self.setOpenLinks(False)
        self.setAccessibleName("Messages")
        self.document().setDocumentMargin(8)
        self.anchorClicked.connect(self._open_link)
        model.rowsInserted.connect(self._on_inserted)
        model.dataChanged.connect(self._rerender_keep)
        model.modelReset.connect(self._rerender_keep)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)
        self._render_all()

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() == RETRY_SCHEME and url.path().isdigit():
            self.retry_requested.emit(int(url.path()))
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def message_at(self, pos: QPoint) -> StoredMessage | None:
        """The message shown at ``pos`` (viewport coordinates): one block per message."""
        row = self.cursorForPosition(pos).block().blockNumber()
        messages = self._model.messages
        return messages[row] if 0 <= row < len(messages) else None

    def context_menu(self, pos: QPoint) -> QMenu:
        """The standard menu, with "Retry" first on a failed message of ours."""
        menu = self.createStandardContextMenu(pos)
        message = self.message_at(pos)
        if message is not None and message.direction is Direction.OUT and message.state is MessageState.FAILED:
            first = menu.actions()[0] if menu.actions() else None
            retry = menu.addAction("Retry")
            retry.triggered.connect(lambda _c=False, mid=message.id: self.retry_requested.emit(mid))
            if first is not None:
                menu.insertAction(first, retry)
                menu.insertSeparator(first)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu(event.pos())
        menu.exec(event.globalPos())
        menu.deleteLater()

    def _html_of(self, row: int, messages: list[StoredMessage]) -> str:
        m = messages[row]
        show_account = row > 0 and messages[row - 1].account_id != m.account_id
        return message_html(m, show_account=show_account)

    def _render_all(self) -> None:
        messages = self._model.messages
        self.setHtml("".join(self._paragraph(i, messages) for i in range(len(messages))))

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _on_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        bar = self.verticalScrollBar()
        messages = self._model.messages
        if first > 0 and last == len(messages) - 1:  # new messages at the end
            stick = self._at_bottom() and not self._model.paging_newer
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            for i in range(first, last + 1):
                cursor.insertBlock()
                cursor.insertHtml(self._html_of(i, messages))
            if stick:
                bar.setValue(bar.maximum())
            return
        if first == 0 and last == len(messages) - 1:  # the first page
            self._render_all()
            bar.setValue(bar.maximum())
            return
        # an older page (or an insertion in the middle): keep what the user looks at in place
        from_bottom = bar.maximum() - bar.value()
        self._render_all()
        bar.setValue(bar.maximum() - from_bottom)

    def _rerender_keep(self, *_args: object) -> None:
        bar = self.verticalScrollBar()
        stick = self._at_bottom()
        value = bar.value()
        self._render_all()
        bar.setValue(bar.maximum() if stick else value)

    def _on_scroll(self, value: int) -> None:
        bar = self.verticalScrollBar()
        if value == bar.minimum() and bar.maximum() > 0 and self._model.canFetchMore(QModelIndex()):
            self._model.fetchMore(QModelIndex())
        elif self.newer_paging and value == bar.maximum() and bar.maximum() > 0 and self._model.can_fetch_newer():
            self._model.fetch_newer()

    # -- a search hit ---------------------------------------------------------------------------

    def _paragraph(self, row: int, messages: list[StoredMessage]) -> str:
        if messages[row].id == self.highlighted_id:
            return f'<p style="{HIGHLIGHT_STYLE}">{self._html_of(row, messages)}</p>'
        return f"<p>{self._html_of(row, messages)}</p>"

    def highlight(self, message_id: int | None) -> bool:
        """Highlight ``message_id`` (None: nothing), select it and scroll it into the upper third of the
        view. False if the model does not hold it."""
        self.highlighted_id = message_id
        self._render_all()
        row = None if message_id is None else self._model.row_of(message_id)
        if row is None:
            return False
        block = self.document().findBlockByNumber(row)
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        top = self.document().documentLayout().blockBoundingRect(block).top()
        bar = self.verticalScrollBar()
        bar.setValue(max(bar.minimum(), min(bar.maximum(), int(top) - self.viewport().height() // 3)))
        return True

    def allow_newer_paging(self) -> None:
        """The window is placed: from now on reaching the bottom loads the next page (now, if there)."""
        self.newer_paging = True
        self._on_scroll(self.verticalScrollBar().value())

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
