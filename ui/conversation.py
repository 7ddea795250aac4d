"""Conversations: one tab per person; the person's timeline across accounts and an input box."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ContactRef, ConversationKey, ConversationKind
from aggregator.app.reply_info import ReplyInfo
from aggregator.app.rows import PersonRow
from aggregator.app.types import Direction, PersonId, StoredMessage
from aggregator.events import MessageStored, MessageUpdated, TypingNotice
from ui.composer import Composer
from ui.composer_controller import ComposerController
from ui.context import UiContext
from ui.conversation_keys import install_tab_keys
from ui.icons import presence_icon
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel
from ui.reply_target import reply_target
from ui.sender_names import show_person_names
from ui.timeline_window import TimelineWindow
from ui.typing_indicator import TypingIndicator

log = logging.getLogger(__name__)

PAGE = 50


class ConversationTab(QWidget):
    def __init__(
        self,
        ctx: UiContext,
        person: PersonRow,
        parent: QWidget | None = None,
        *,
        choices: dict[PersonId, ContactRef] | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.person = person
        #: The user's "Reply on" choices of this session, by person (the pane's, shared by its tabs).
        self._choices: dict[PersonId, ContactRef] = {} if choices is None else choices
        self._last_inbound: ContactRef | None = None  # where their newest message came from
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
        self.typing = TypingIndicator(self)
        self.composer = Composer(self)
        self.composer.throttle.changed.connect(self._send_typing)
        self.sending = ComposerController(ctx, self, self.composer, self.view, self.model, self._send_target)
        self.banner = self.sending.banner
        self.templates = self.sending.templates
        self.input = self.composer.input
        self.send_button = self.composer.send_button
        self.error = self.composer.error
        self._reply_on.currentIndexChanged.connect(self._load_reply_info)
        self._reply_on.activated.connect(self._user_chose)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.typing)
        layout.addWidget(self.composer)
        self.set_person(person)
        self._load_reply_info()
        self.model.fetchMore(QModelIndex())

    # -- the person -------------------------------------------------------------------------------

    def set_person(self, person: PersonRow) -> bool:
        """Show the person's new state; True when it gained contacts (a merge): the timeline is then
        loaded again, so the merged contact's earlier messages show up in it."""
        gained = bool({c.ref for c in person.contacts} - {c.ref for c in self.person.contacts})
        before = self.reply_target()
        self.person = person
        self._title.setText(person.name)
        show_person_names(self._ctx, self.view, person)
        status = person.presence.value + (f": {person.status}" if person.status else "")
        self._status.setText(status)
        self._reply_on.blockSignals(True)
        self._reply_on.clear()
        for contact in person.contacts:
            label = f"{contact.ref.handle} ({contact.protocol}: {contact.account})"
            self._reply_on.addItem(presence_icon(contact.presence), label, contact.ref)
        self._reply_on.setCurrentIndex(self._index_of(self._wanted_target()))
        self._reply_on.blockSignals(False)
        if before is not None and self.reply_target() != before:
            self._load_reply_info()  # the reply account changed: its banner and limit
        if gained:
            self.reload_timeline()
        return gained

    def choose_reply_target(self, ref: ContactRef) -> None:
        """The user's choice (a contact's row in the buddy list): it holds, see ``ui.reply_target``."""
        if any(c.ref == ref for c in self.person.contacts):
            self._choices[self.person.id] = ref
            self._follow()

    def _user_chose(self, index: int) -> None:
        ref = self._reply_on.itemData(index)
        if isinstance(ref, ContactRef):
            self._choices[self.person.id] = ref

    def note_inbound(self, message: StoredMessage, *, live: bool = True) -> None:
        """A message from the person: replies follow it. A live one also ends the user's choice of
        another contact; the newest of the history (``live=False``) does not, it came before it."""
        conv = message.conversation
        ref = ContactRef(conv.account_id, conv.handle)
        self._last_inbound = ref
        chosen = self._choices.get(self.person.id)
        if live and chosen is not None and chosen != ref:
            del self._choices[self.person.id]  # they wrote from elsewhere: answer there
        self._follow()

    def _wanted_target(self) -> ContactRef:
        return reply_target(self.person, chosen=self._choices.get(self.person.id), last_inbound=self._last_inbound)

    def _index_of(self, ref: ContactRef) -> int:
        refs = [c.ref for c in self.person.contacts]
        return refs.index(ref) if ref in refs else 0

    def _follow(self) -> None:
        """Move "Reply on" to where replies should go now (its banner and limit follow)."""
        index = self._index_of(self._wanted_target())
        if index != self._reply_on.currentIndex():
            self._reply_on.setCurrentIndex(index)

    def reply_target(self) -> ContactRef | None:
        ref = self._reply_on.currentData()
        return ref if isinstance(ref, ContactRef) else None

    def _send_target(self) -> ConversationKey | None:
        ref = self.reply_target()
        return None if ref is None else ConversationKey.direct(ref.account_id, ref.handle)

    def shows(self, message: StoredMessage) -> bool:
        conv = message.conversation
        if conv.kind is not ConversationKind.DIRECT:
            return False
        return any(c.ref.account_id == conv.account_id and c.ref.handle == conv.handle for c in self.person.contacts)

    # -- the reply account: banner and limit ------------------------------------------------------

    def _load_reply_info(self, *_args: object) -> None:
        self.sending.load_reply_info()

    # -- typing -----------------------------------------------------------------------------------

    def on_typing(self, event: TypingNotice) -> None:
        conv = event.conversation
        if conv.kind is ConversationKind.DIRECT and any(
            c.ref.account_id == conv.account_id and c.ref.handle == event.handle for c in self.person.contacts
        ):
            self.typing.set_typing(self.person.name, event.typing)

    def _send_typing(self, typing: bool) -> None:
        ref = self.reply_target()
        if ref is None:
            return
        coro = self._ctx.app.set_typing(ref.account_id, ref.handle, typing)
        self._ctx.bridge.call(coro, lambda _ok, err: log.info("Typing notice failed: %s", err) if err else None)

    # -- history ----------------------------------------------------------------------------------

    def _load_older(self, before_id: int | None) -> None:
        app = self._ctx.app
        pid = self.person.id

        def load() -> list[StoredMessage]:
            return app.person_history(pid, limit=PAGE, before_id=before_id)

        self._ctx.bridge.run(load, self._page_loaded)

    def reload_timeline(self) -> None:
        """Load the newest page again (the person's contacts changed), replacing what is shown."""
        if self.timeline is not None:
            self.timeline.jump_to_latest()  # the same, and it also ends a window opened at a search hit
            return
        app, pid = self._ctx.app, self.person.id
        self._ctx.bridge.run(lambda: app.person_history(pid, limit=PAGE), self._reloaded)

    def _reloaded(self, page: list[StoredMessage] | None, error: BaseException | None) -> None:
        if error is not None or page is None:
            log.warning("Could not load the history of person %s again: %s", self.person.id, error)
            return
        self.model.show_window(page, has_older=len(page) >= PAGE, has_newer=False)
        self.view.scroll_to_end()
        self._newest_inbound(page)

    def _newest_inbound(self, page: list[StoredMessage]) -> None:
        """Where their newest message came from, when the history tells it first (at the start)."""
        if self._last_inbound is None:
            newest = next((m for m in reversed(page) if m.direction is Direction.IN and self.shows(m)), None)
            if newest is not None:
                self.note_inbound(newest, live=False)

    def _page_loaded(self, page: list[StoredMessage] | None, error: BaseException | None) -> None:
        if error is not None or page is None:
            log.warning("Could not load the history of person %s: %s", self.person.id, error)
            self.model.load_failed()
            return
        self.model.prepend(page, has_more=len(page) >= PAGE)
        self._newest_inbound(page)

    # -- opened at a message (a search hit) -------------------------------------------------------

    timeline: TimelineWindow | None = None  # made by the first show_message

    def show_message(self, message_id: int) -> None:
        """Show a page of the timeline around ``message_id``, highlighted and scrolled to; scrolling
        down loads newer pages, "Jump to latest" goes back to the newest messages."""
        if self.timeline is None:
            self.timeline = TimelineWindow(self._ctx, self.person.id, self.model, self.view, PAGE, self)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            button = self.timeline.latest_button
            layout.insertWidget(layout.indexOf(self.view) + 1, button, 0, Qt.AlignmentFlag.AlignRight)
        self.timeline.open_at(message_id)

    # -- sending ----------------------------------------------------------------------------------

    def send(self) -> None:
        """Send the composer's text (Enter, Send)."""
        self.sending.send()

    @property
    def reply_info(self) -> ReplyInfo | None:
        return self.sending.reply_info

    @property
    def policy_question(self) -> QMessageBox | None:
        return self.sending.policy_question


class ConversationPane(QTabWidget):
    person_opened = Signal(int)  # the person whose tab became current

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setDocumentMode(True)
        self.setAccessibleName("Conversations")
        self._reply_choices: dict[PersonId, ContactRef] = {}  # the user's "Reply on" choices this session
        self.tabCloseRequested.connect(self._close_tab)
        self.currentChanged.connect(self._on_current)
        ctx.bridge.message_stored.connect(self._on_stored)
        ctx.bridge.message_updated.connect(self._on_updated)
        ctx.bridge.typing.connect(self._on_typing)
        install_tab_keys(self)

    def tabs(self) -> list[ConversationTab]:
        return [t for i in range(self.count()) if isinstance(t := self.widget(i), ConversationTab)]

    def tab_of(self, person_id: PersonId) -> ConversationTab | None:
        return next((t for t in self.tabs() if t.person.id == person_id), None)

    def open_person(self, person: PersonRow) -> ConversationTab:
        tab = self.tab_of(person.id)
        if tab is None:
            tab = ConversationTab(self._ctx, person, self, choices=self._reply_choices)
            self.addTab(tab, presence_icon(person.presence), person.name)
        self.setCurrentWidget(tab)
        tab.input.setFocus()
        self._mark_read(person.id)
        return tab

    def update_person(self, person: PersonRow) -> None:
        tab = self.tab_of(person.id)
        if tab is not None:
            if tab.set_person(person) and tab is self.currentWidget():
                self._mark_read(person.id)  # the merged contact's unread messages are in front of the user
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
        app = self._ctx.app
        self._ctx.bridge.post(lambda: app.mark_person_read(person_id))

    def _on_typing(self, event: TypingNotice) -> None:
        for tab in self.tabs():
            tab.on_typing(event)

    def _on_stored(self, event: MessageStored) -> None:
        for tab in self.tabs():
            if event.message.direction is Direction.IN and tab.shows(event.message):
                tab.typing.clear_typing()  # their message ends their typing
                if not event.message.is_backfill:
                    tab.note_inbound(event.message)
            shown = tab.shows(event.message) and tab.model.add(event.message)
            if shown and tab is self.currentWidget() and self.window().isActiveWindow():
                self._mark_read(tab.person.id)

    def _on_updated(self, event: MessageUpdated) -> None:
        for tab in self.tabs():
            if tab.shows(event.message):
                tab.model.update(event.message)
