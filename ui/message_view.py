"""A read-only view of a ConversationModel: the timeline as rich text built from escaped bodies.

Each local day starts with a separator line ("Today", "Yesterday", a weekday, or the date); each
message is one block, with the time, the sender's name (``SenderNames``) and the body, and a tooltip
with the full date and time, the sender's address and the account. Room messages that mention us
are highlighted.

A change of one message (a delivery receipt, read, failed, sent again) rewrites that message's block
only: the rest of the document is neither rebuilt nor laid out again (``row_rewritten`` says which).

Scrolling to the top asks the model for the previous page; new messages at the end keep the view
pinned to the bottom if it was there. Links open in the desktop's browser (http and https only).
Opened at a search hit, the hit is highlighted and scrolled to, and scrolling to the bottom asks the
model for the next page.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime, timedelta

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QDesktopServices,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QMenu, QTextBrowser, QToolTip, QWidget

from aggregator.api import MessageState
from aggregator.app.names import SenderNames
from aggregator.app.types import Direction, StoredMessage
from ui.file_cards import FILE_SCHEME, FileView, files_html
from ui.models.conversation_model import MESSAGE_ROLE, ConversationModel
from ui.theme_colors import current as theme_colors
from ui.thumbnails import Thumbnails
from ui.timeline_text import RETRY_SCHEME, STATE_MARKS, day_label, local_day, message_html, stamp_text, tooltip

__all__ = ["RETRY_SCHEME", "STATE_MARKS", "MessageView", "highlight_style", "message_html"]


def highlight_style() -> str:
    """A search hit's paragraph style in the theme in force (``ui.theme_colors``)."""
    colors = theme_colors()
    return f"background-color:{colors.search_hit}; color:{colors.marked_text}"


#: A block of the document: a message row, or a day separator (None).
Block = int | None


class MessageView(QTextBrowser):
    retry_requested = Signal(object)  # the id (an int, 64 bits) of a failed message of ours to send again
    row_rewritten = Signal(int)  # the model row whose block alone was written again (one message changed)
    rendered = Signal()  # the whole document was written again (a page, names, a highlight, a new day)
    file_action = Signal(str, int)  # ("open" | "save" | "view" | "fetch" | "cancel", attachment id)

    def __init__(self, model: ConversationModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._names = SenderNames()
        self._blocks: list[Block] = []  # what each block of the document shows
        self._row_blocks: list[int] = []  # the block of each model row (the inverse of ``_blocks``)
        self._shown: list[StoredMessage] = []  # each row as written (to tell what a change touches)
        self.today: Callable[[], date] = date.today  # what "Today" is (tests set their own)
        self.highlighted_id: int | None = None  # the message id shown highlighted (a search hit)
        self.newer_paging = True  # False while a window is being placed: only the user's scrolling loads
        #: The files of a message (set by the tab's attachment shelf; none by default).
        self.files_of: Callable[[int], list[FileView]] = lambda _message_id: []
        self._thumbnails = Thumbnails(self.document())
        self.setOpenLinks(False)
        self.setAccessibleName("Messages")
        self.document().setDocumentMargin(8)
        self.anchorClicked.connect(self._open_link)
        model.rowsInserted.connect(self._on_inserted)
        model.dataChanged.connect(self._on_changed)
        model.modelReset.connect(self._rerender_keep)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)
        self.midnight = QTimer(self)  # "Today" becomes "Yesterday": render again just after midnight
        self.midnight.setSingleShot(True)
        self.midnight.timeout.connect(self._new_day)
        self._render_all()
        self._schedule_midnight()

    def _schedule_midnight(self) -> None:
        now = datetime.now().astimezone()
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time()).astimezone()
        self.midnight.start(int((tomorrow - now).total_seconds() * 1000) + 1000)

    def _new_day(self) -> None:
        self.refresh()
        self._schedule_midnight()

    @property
    def names(self) -> SenderNames:
        return self._names

    def set_names(self, names: SenderNames) -> None:
        """How senders are named (the person's name, ours per account, what mentions us)."""
        if names != self._names:
            self._names = names
            self._rerender_keep()

    def refresh(self) -> None:
        """Render again (e.g. after midnight, when "Today" became "Yesterday")."""
        self._rerender_keep()

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() == RETRY_SCHEME and url.path().isdigit():
            self.retry_requested.emit(int(url.path()))
        elif url.scheme() == FILE_SCHEME:
            action, _, number = url.path().partition("/")
            if number.isdigit() and action in ("open", "save", "view", "fetch", "cancel"):
                self.file_action.emit(action, int(number))
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    # -- rows and blocks ----------------------------------------------------------------------------

    def _block_at(self, pos: QPoint) -> Block:
        """What the block at ``pos`` (viewport coordinates) shows; None on a separator or below the last."""
        block = self.cursorForPosition(pos).block()
        number = block.blockNumber()
        if not block.isValid() or not 0 <= number < len(self._blocks):
            return None
        box = self.document().documentLayout().blockBoundingRect(block)
        y = pos.y() + self.verticalScrollBar().value()
        return self._blocks[number] if box.top() <= y <= box.bottom() else None

    def message_at(self, pos: QPoint) -> StoredMessage | None:
        """The message shown at ``pos`` (viewport coordinates); None on a day separator or below."""
        row = self._block_at(pos)
        messages = self._model.messages
        return messages[row] if row is not None and 0 <= row < len(messages) else None

    def block_of_row(self, row: int) -> int | None:
        """The document block that shows model row ``row``."""
        return self._row_blocks[row] if 0 <= row < len(self._row_blocks) else None

    def tooltip_at(self, pos: QPoint) -> str:
        """The plain-text tooltip of the message at ``pos`` ("" on a separator or below the last)."""
        message = self.message_at(pos)
        return "" if message is None else tooltip(message, self._names)

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

    # -- writing the document -----------------------------------------------------------------------

    def _row_look(self, row: int, messages: list[StoredMessage]) -> tuple[QTextBlockFormat, str]:
        """The block format and the HTML of row ``row``."""
        m = messages[row]
        background = None
        if m.id == self.highlighted_id:
            background = theme_colors().search_hit
        elif self._names.mentions_us(m):
            background = theme_colors().mention
        fmt = QTextBlockFormat()
        fmt.setTopMargin(2)
        fmt.setBottomMargin(2)
        # A hanging indent: a wrapped message continues under its text, not under the time column.
        indent = QFontMetricsF(self.document().defaultFont()).horizontalAdvance(stamp_text(m))
        fmt.setLeftMargin(indent)
        fmt.setTextIndent(-indent)
        if background is not None:
            fmt.setBackground(QBrush(QColor(background)))
        show_account = row > 0 and messages[row - 1].account_id != m.account_id
        text = message_html(m, show_account=show_account, names=self._names)
        files = self.files_of(m.id)
        if files:
            text += files_html(files, thumbnails=self._thumbnails.ensure(files))
        if background is not None:
            text = f'<span style="color:{theme_colors().marked_text}">{text}</span>'  # readable on the marking
        return fmt, text

    def _write_row(self, cursor: QTextCursor, row: int, messages: list[StoredMessage], *, first: bool) -> None:
        """Write row ``row`` (after a day separator when its local day differs from the row before)."""
        m = messages[row]
        if row == 0 or local_day(messages[row - 1].sent_at) != local_day(m.sent_at):
            self._write_separator(cursor, day_label(local_day(m.sent_at), self.today()), first=first)
            first = False
        fmt, text = self._row_look(row, messages)
        self._new_block(cursor, fmt, QTextCharFormat(), first=first)
        cursor.insertHtml(text)
        self._row_blocks.append(len(self._blocks))
        self._blocks.append(row)
        self._shown.append(m)

    def _write_separator(self, cursor: QTextCursor, label: str, *, first: bool) -> None:
        fmt = QTextBlockFormat()
        fmt.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        fmt.setTopMargin(0 if first else 10)
        fmt.setBottomMargin(4)
        chars = QTextCharFormat()
        chars.setForeground(QBrush(QColor(theme_colors().separator)))
        chars.setFontWeight(QFont.Weight.Bold)
        self._new_block(cursor, fmt, chars, first=first)
        cursor.insertText(f"\u2014 {label} \u2014", chars)
        self._blocks.append(None)

    @staticmethod
    def _new_block(cursor: QTextCursor, fmt: QTextBlockFormat, chars: QTextCharFormat, *, first: bool) -> None:
        if first:  # the document's first (empty) block
            cursor.setBlockFormat(fmt)
            cursor.setBlockCharFormat(chars)
            cursor.setCharFormat(chars)
        else:
            cursor.insertBlock(fmt, chars)

    def _render_all(self) -> None:
        messages = self._model.messages
        self.clear()
        self._blocks = []
        self._row_blocks = []
        self._shown = []
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        for row in range(len(messages)):
            self._write_row(cursor, row, messages, first=row == 0)
        cursor.endEditBlock()
        self.rendered.emit()

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
                self._write_row(cursor, i, messages, first=False)
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

    def _on_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, _roles: object = None) -> None:
        """Messages changed in place: rewrite their blocks, or everything when a change moves a day
        separator or the "[on account]" mark of the next row (a changed time or account)."""
        for row in range(top_left.row(), bottom_right.row() + 1):
            if not self._rewrite_row(row):
                self._rerender_keep()
                return

    def _rewrite_row(self, row: int) -> bool:
        """Write row ``row``'s block again; False if the change reaches beyond the row."""
        message = self._model.data(self._model.index(row, 0), MESSAGE_ROLE)
        if not isinstance(message, StoredMessage) or not 0 <= row < len(self._shown):
            return False
        before = self._shown[row]
        if local_day(before.sent_at) != local_day(message.sent_at) or before.account_id != message.account_id:
            return False
        if before.id != message.id:
            return False  # the rows moved without the view being told: write everything
        previous = [self._shown[row - 1], message] if row > 0 else [message]
        fmt, text = self._row_look(len(previous) - 1, previous)
        self._shown[row] = message
        block = self.document().findBlockByNumber(self._row_blocks[row])
        bar = self.verticalScrollBar()
        stick = self._at_bottom()
        value = bar.value()
        cursor = QTextCursor(block)
        cursor.beginEditBlock()
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if cursor.blockFormat() != fmt:  # (a block format change is an edit from the block before)
            cursor.setBlockFormat(fmt)
        cursor.setCharFormat(QTextCharFormat())
        cursor.insertHtml(text)
        cursor.endEditBlock()
        bar.setValue(bar.maximum() if stick else value)
        self.row_rewritten.emit(row)
        return True

    def rewrite_message(self, message_id: int) -> None:
        """Write the row of ``message_id`` again (its files changed); nothing if it is not shown."""
        row = self._model.row_of(message_id)
        if row is not None and not self._rewrite_row(row):
            self._rerender_keep()

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

    def highlight(self, message_id: int | None) -> bool:
        """Highlight ``message_id`` (None: nothing), select it and scroll it into the upper third of the
        view. False if the model does not hold it."""
        self.highlighted_id = message_id
        self._render_all()
        row = None if message_id is None else self._model.row_of(message_id)
        number = None if row is None else self.block_of_row(row)
        if number is None:
            return False
        block = self.document().findBlockByNumber(number)
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
