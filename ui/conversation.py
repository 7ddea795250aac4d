"""Conversations: one tab per person; the person's timeline across accounts and an input box."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ContactRef, ConversationKind
from aggregator.archive.records import StoredMessage
from aggregator.core import Core
from aggregator.events import MessageStored, MessageUpdated
from aggregator.roster.records import PersonId
from ui.context import UiContext
from ui.icons import presence_icon
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel
from ui.rows import PersonRow

log = logging.getLogger(__name__)

PAGE = 50


async def _send(core: Core, ref: ContactRef, body: str) -> StoredMessage:
    return await core.outbound.send(ref.account_id, ref.handle, body)


class _EnterFilter(QObject):
    """Enter sends; Shift+Enter is a new line."""

    submitted = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.submitted.emit()
                return True
        return False


class ConversationTab(QWidget):
    def __init__(self, ctx: UiContext, person: PersonRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.person = person
        self.model = ConversationModel(self)
        self.model.older_wanted.connect(self._load_older)

        self._title = QLabel()
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        font = self._title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self._title.setFont(font)
        self._status = QLabel()
        self._status.setTextFormat(Qt.TextFormat.PlainText)
        self._reply_on = QComboBox()
        self._reply_on.setAccessibleName("Reply on")
        self._reply_on.setToolTip("The contact (account and address) your replies go to")
        header = QHBoxLayout()
        header.addWidget(self._title)
        header.addWidget(self._status, 1)
        header.addWidget(QLabel("Reply on:"))
        header.addWidget(self._reply_on)

        self.view = MessageView(self.model, self)
        self.input = QPlainTextEdit()
        self.input.setAccessibleName("Message")
        self.input.setPlaceholderText("Write a message; Enter sends, Shift+Enter starts a new line")
        self.input.setTabChangesFocus(True)  # Tab moves on (keyboard users); a tab character is rarely wanted
        self.input.setMaximumHeight(self.input.fontMetrics().height() * 4 + 12)
        self._enter = _EnterFilter(self)
        self._enter.submitted.connect(self.send)
        self.input.installEventFilter(self._enter)
        self.send_button = QPushButton("Send")
        self.send_button.setAccessibleName("Send")
        self.send_button.clicked.connect(self.send)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: #c00000")
        self.error.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.input, 1)
        bottom.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error)
        layout.addLayout(bottom)
        self.set_person(person)
        self.model.fetchMore(QModelIndex())

    # -- the person -------------------------------------------------------------------------------

    def set_person(self, person: PersonRow) -> None:
        chosen = self.reply_target()
        self.person = person
        self._title.setText(person.name)
        status = person.presence.value + (f": {person.status}" if person.status else "")
        self._status.setText(status)
        self._reply_on.blockSignals(True)
        self._reply_on.clear()
        for contact in person.contacts:
            label = f"{contact.ref.handle} ({contact.protocol}: {contact.account})"
            self._reply_on.addItem(presence_icon(contact.presence), label, contact.ref)
        refs = [c.ref for c in person.contacts]
        keep = chosen if chosen in refs else person.best
        self._reply_on.setCurrentIndex(refs.index(keep) if keep in refs else 0)
        self._reply_on.blockSignals(False)

    def choose_reply_target(self, ref: ContactRef) -> None:
        for index in range(self._reply_on.count()):
            if self._reply_on.itemData(index) == ref:
                self._reply_on.setCurrentIndex(index)
                return

    def reply_target(self) -> ContactRef | None:
        ref = self._reply_on.currentData()
        return ref if isinstance(ref, ContactRef) else None

    def shows(self, message: StoredMessage) -> bool:
        conv = message.conversation
        if conv.kind is not ConversationKind.DIRECT:
            return False
        return any(c.ref.account_id == conv.account_id and c.ref.handle == conv.handle for c in self.person.contacts)

    # -- history ----------------------------------------------------------------------------------

    def _load_older(self, before_id: int | None) -> None:
        core = self._ctx.core
        pid = self.person.id

        def load() -> list[StoredMessage]:
            return core.roster.history(pid, limit=PAGE, before_id=before_id)

        self._ctx.bridge.run(load, self._page_loaded)

    def _page_loaded(self, page: list[StoredMessage] | None, error: BaseException | None) -> None:
        if error is not None or page is None:
            log.warning("Could not load the history of person %s: %s", self.person.id, error)
            self.model.load_failed()
            return
        self.model.prepend(page, has_more=len(page) >= PAGE)

    # -- sending ----------------------------------------------------------------------------------

    def send(self) -> None:
        body = self.input.toPlainText()
        ref = self.reply_target()
        if not body.strip() or ref is None:
            return
        self.input.clear()
        self.error.hide()
        self._ctx.bridge.call(_send(self._ctx.core, ref, body), lambda _row, err: self._sent(body, err))

    def _sent(self, body: str, error: BaseException | None) -> None:
        if error is None:
            return
        if not self.input.toPlainText():
            self.input.setPlainText(body)  # nothing was stored: give the text back
        self.error.setText(f"Not sent: {error}")
        self.error.show()


class ConversationPane(QTabWidget):
    person_opened = Signal(int)  # the person whose tab became current

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setDocumentMode(True)
        self.setAccessibleName("Conversations")
        self.tabCloseRequested.connect(self._close_tab)
        self.currentChanged.connect(self._on_current)
        ctx.bridge.message_stored.connect(self._on_stored)
        ctx.bridge.message_updated.connect(self._on_updated)

    def tabs(self) -> list[ConversationTab]:
        return [t for i in range(self.count()) if isinstance(t := self.widget(i), ConversationTab)]

    def tab_of(self, person_id: PersonId) -> ConversationTab | None:
        return next((t for t in self.tabs() if t.person.id == person_id), None)

    def open_person(self, person: PersonRow) -> ConversationTab:
        tab = self.tab_of(person.id)
        if tab is None:
            tab = ConversationTab(self._ctx, person, self)
            self.addTab(tab, presence_icon(person.presence), person.name)
        self.setCurrentWidget(tab)
        tab.input.setFocus()
        self._mark_read(person.id)
        return tab

    def update_person(self, person: PersonRow) -> None:
        tab = self.tab_of(person.id)
        if tab is not None:
            tab.set_person(person)
            index = self.indexOf(tab)
            self.setTabText(index, person.name)
            self.setTabIcon(index, presence_icon(person.presence))

    def close_person(self, person_id: PersonId) -> None:
        tab = self.tab_of(person_id)
        if tab is not None:
            self._close_tab(self.indexOf(tab))

    def _close_tab(self, index: int) -> None:
        widget = self.widget(index)
        self.removeTab(index)
        if widget is not None:
            widget.deleteLater()

    def _on_current(self, index: int) -> None:
        tab = self.widget(index)
        if isinstance(tab, ConversationTab):
            self._mark_read(tab.person.id)
            self.person_opened.emit(tab.person.id)

    def _mark_read(self, person_id: PersonId) -> None:
        core = self._ctx.core
        self._ctx.bridge.run(lambda: core.roster.unread.mark_person_read(person_id), lambda _r, _e: None)

    def _on_stored(self, event: MessageStored) -> None:
        for tab in self.tabs():
            shown = tab.shows(event.message) and tab.model.add(event.message)
            if shown and tab is self.currentWidget() and self.window().isActiveWindow():
                self._mark_read(tab.person.id)

    def _on_updated(self, event: MessageUpdated) -> None:
        for tab in self.tabs():
            if tab.shows(event.message):
                tab.model.update(event.message)
