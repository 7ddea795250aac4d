"""The input under a conversation (a person's or a room's): the text, Send, a counter against the
protocol's limit, inline errors and notes. What the text does is ``ui.composer_controller``'s job.

Enter sends, Shift+Enter starts a new line. Pasted text stays one message up to the protocol's
``max_body_length``; above it the counter says by how much and Send refuses (the text stays).
Edits by the user (not by the program) drive the typing notice (``throttle``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from aggregator.app.reply_info import ReplyInfo, over_limit_text
from ui.typing_indicator import TypingThrottle

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #c00000"
NOTE_STYLE = "color: palette(window-text); background: palette(alternate-base); padding: 3px"
def carries_files(mime: QMimeData) -> bool:
    """Whether a drop or a paste brings local files (a file manager's drag or copy), as URLs or as
    ``file://`` text: their paths must never become message text."""
    if mime.hasUrls() and any(url.isLocalFile() or url.scheme() == "file" for url in mime.urls()):
        return True
    return mime.hasText() and mime.text().lstrip().lower().startswith("file:")


def local_files(mime: QMimeData) -> list[Path]:
    """The local files a drop or a paste brings (URLs, or ``file://`` lines of text)."""
    urls = list(mime.urls()) if mime.hasUrls() else []
    if not urls and mime.hasText():
        urls = [QUrl(line.strip()) for line in mime.text().splitlines() if line.strip().lower().startswith("file:")]
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


class MessageInput(QPlainTextEdit):
    """The text of a message. Files dropped or pasted on it are sent as files (``files_dropped``), a
    pasted picture as a picture (``image_pasted``): never inserted as their paths."""

    files_dropped = Signal(list)  # list[Path]
    image_pasted = Signal(QImage)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        # Accepted so that the drop lands here and is answered, rather than silently ignored.
        return carries_files(source) or source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if carries_files(source):
            files = local_files(source)
            log.info("%d file(s) dropped or pasted on the message box: sent as files", len(files))
            self.files_dropped.emit(files)
            return
        if source.hasImage() and not source.hasText():
            image = source.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.image_pasted.emit(image)
                return
        super().insertFromMimeData(source)


class EnterFilter(QObject):
    """Enter sends; Shift+Enter is a new line."""

    submitted = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.submitted.emit()
                return True
        return False


def _error_label(name: str, style: str = ERROR_STYLE) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.setAccessibleName(name)
    label.hide()
    return label


class Composer(QWidget):
    submitted = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        name: str = "Message",
        send_name: str = "Send",
        placeholder: str = "Write a message; Enter sends, Shift+Enter starts a new line, /help lists commands",
    ) -> None:
        super().__init__(parent)
        self._info: ReplyInfo | None = None
        self._programmatic = False
        self.input = MessageInput()
        self.input.setTabChangesFocus(True)  # Tab moves on (keyboard users); a tab character is rarely wanted
        self.input.setAccessibleName(name)
        self.input.setPlaceholderText(placeholder)
        self.input.setMaximumHeight(self.input.fontMetrics().height() * 4 + 12)
        self._enter = EnterFilter(self)
        self._enter.submitted.connect(self.submitted)
        self.input.installEventFilter(self._enter)
        self.send_button = QPushButton("Send")
        self.send_button.setAccessibleName(send_name)
        self.send_button.clicked.connect(self.submitted)
        self.error = _error_label("Error")
        self.counter = _error_label("Length")
        self.note = _error_label("Note", NOTE_STYLE)
        self.throttle = TypingThrottle(self)
        self.input.textChanged.connect(self._on_changed)

        self._buttons = QVBoxLayout()
        self._buttons.setContentsMargins(0, 0, 0, 0)
        self._buttons.addWidget(self.send_button)
        self._buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.input, 1)
        row.addLayout(self._buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.error)
        layout.addWidget(self.note)
        layout.addWidget(self.counter)
        layout.addLayout(row)

    def add_button(self, button: QWidget) -> None:
        self._buttons.insertWidget(self._buttons.count() - 1, button)

    # -- the text ---------------------------------------------------------------------------------

    def text(self) -> str:
        return self.input.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the text (a template, a refused message given back); no typing notice."""
        self._programmatic = True
        try:
            self.input.setPlainText(text)
        finally:
            self._programmatic = False
        cursor = self.input.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.input.setTextCursor(cursor)

    def take_text(self) -> str:
        """The text, emptied from the input (it is being sent)."""
        text = self.text()
        self.set_text("")
        self.throttle.stop()
        return text

    def _on_changed(self) -> None:
        self._update_counter()
        if not self._programmatic:
            self.throttle.edited(not self.input.toPlainText())

    # -- the limit --------------------------------------------------------------------------------

    def set_reply_info(self, info: ReplyInfo) -> None:
        self._info = info
        self._update_counter()

    def over_limit(self) -> str | None:
        return None if self._info is None else over_limit_text(len(self.text()), self._info)

    def _update_counter(self) -> None:
        problem = self.over_limit()
        self.counter.setText(problem or "")
        self.counter.setVisible(problem is not None)
        self.send_button.setEnabled(problem is None)
        self.send_button.setToolTip(problem or "Send (Enter)")

    # -- errors -----------------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.note.hide()
        self.error.setText(text)
        self.error.show()

    def show_note(self, text: str) -> None:
        """A local answer (the list of commands): nothing went wrong, nothing was sent."""
        self.error.hide()
        self.note.setText(text)
        self.note.show()

    def clear_error(self) -> None:
        """Clear the error and the note (the user did something new)."""
        self.error.clear()
        self.error.hide()
        self.note.clear()
        self.note.hide()
