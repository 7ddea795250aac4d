"""A room's tab in the conversation pane: the topic at the top (editable where the protocol allows
it), the timeline with each message's sender, the members beside it, and an input that sends to the
room through the same composer as a person's tab (``ui.composer_controller``). ``open_room`` puts one
in a ``ConversationPane`` (one tab per room)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aggregator.api import ConversationKey, PresenceKind
from aggregator.app.reply_info import ReplyInfo
from aggregator.app.room_rows import RoomRow
from aggregator.app.types import Room, StoredMessage
from aggregator.events import MessageStored, MessageUpdated
from ui.composer import Composer
from ui.composer_controller import ComposerController
from ui.context import UiContext
from ui.icons import presence_icon
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel
from ui.models.member_model import MemberModel
from ui.sender_names import show_room_names

log = logging.getLogger(__name__)

PAGE = 50
ERROR_STYLE = "color: #c00000"


class RoomTab(QWidget):
    left = Signal(object)  # ConversationKey: the user left the room

    def __init__(self, ctx: UiContext, room: RoomRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.room = room
        self.model = ConversationModel(self)
        self.model.older_wanted.connect(self._load_older)
        self.members = MemberModel(self)

        self._title = QLabel()
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        font = self._title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self._title.setFont(font)
        self.state = QLabel()
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.state.setAccessibleName("Room state")
        self.leave_button = QPushButton("Leave room")
        self.leave_button.setAccessibleName("Leave room")
        self.leave_button.setToolTip("Leave the room and stop joining it when the account connects")
        self.leave_button.clicked.connect(self.leave)
        self.join_button = QPushButton("Join")
        self.join_button.setAccessibleName("Join the room")
        self.join_button.setToolTip("Try to join the room now")
        self.join_button.clicked.connect(self.join)
        header = QHBoxLayout()
        header.addWidget(self._title)
        header.addWidget(self.state, 1)
        header.addWidget(self.join_button)
        header.addWidget(self.leave_button)

        self.topic = QLineEdit()
        self.topic.setAccessibleName("Topic")
        self.topic.returnPressed.connect(self._topic_entered)
        self._topic_by = QLabel()
        self._topic_by.setTextFormat(Qt.TextFormat.PlainText)
        topic_label = QLabel("&Topic:")
        topic_label.setBuddy(self.topic)
        topic_row = QHBoxLayout()
        topic_row.addWidget(topic_label)
        topic_row.addWidget(self.topic, 1)
        topic_row.addWidget(self._topic_by)

        self.view = MessageView(self.model, self)
        self.member_list = QListView()
        self.member_list.setModel(self.members)
        self.member_list.setAccessibleName("Members")
        self.member_list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self._members_title = QLabel()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self._members_title)
        side_layout.addWidget(self.member_list, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([520, 160])

        self.composer = Composer(
            self,
            name="Message to the room",
            send_name="Send to the room",
            placeholder="Write to the room; Enter sends, Shift+Enter starts a new line, /help lists commands",
        )
        self.sending = ComposerController(ctx, self, self.composer, self.view, self.model, lambda: self.room.key)
        self.banner = self.sending.banner
        self.templates = self.sending.templates
        self.input = self.composer.input
        self.send_button = self.composer.send_button
        self.error = self.composer.error

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addLayout(topic_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.composer)
        self.set_room(room)
        self.sending.load_reply_info()
        ctx.bridge.message_stored.connect(self._on_stored)
        ctx.bridge.message_updated.connect(self._on_updated)
        self.model.fetchMore(QModelIndex())

    @property
    def key(self) -> ConversationKey:
        return self.room.key

    # -- the room ---------------------------------------------------------------------------------

    def set_room(self, room: RoomRow) -> None:
        self.room = room
        self._title.setText(room.short_name)  # as the buddy list names it; the address in the tooltip
        self._title.setToolTip(f"{room.name} on {room.account}")
        show_room_names(self._ctx, self.view, room)
        count = f"{len(room.members)} member{'s' if len(room.members) != 1 else ''}"
        if room.joined:
            self.state.setText(f"joined as {room.nick} on {room.account} · {count}")
            self.state.setStyleSheet("")
        elif room.error:
            self.state.setText(f"not joined: {room.error}")
            self.state.setStyleSheet(ERROR_STYLE)
        else:
            self.state.setText(f"not joined; joined when {room.account} connects")
            self.state.setStyleSheet("")
        self.join_button.setVisible(not room.joined)
        editable = room.can_set_topic and room.joined
        if not self.topic.hasFocus() or not editable:
            self.topic.setText(room.topic)
            self.topic.setCursorPosition(0)
        self.topic.setReadOnly(not editable)
        self.topic.setPlaceholderText("No topic" + ("; type one and press Enter" if editable else ""))
        self.topic.setToolTip(
            "Press Enter to set the room's topic" if editable else "Join the room to change its topic"
        )
        self._topic_by.setText(f"set by {room.topic_set_by}" if room.topic and room.topic_set_by else "")
        self._members_title.setText(f"Members ({len(room.members)})")
        self.members.set_members(room.members, room.nick if room.joined else None)

    def shows(self, message: StoredMessage) -> bool:
        return message.conversation == self.room.key

    # -- history ----------------------------------------------------------------------------------

    def _load_older(self, before_id: int | None) -> None:
        app, key = self._ctx.app, self.room.key
        self._ctx.bridge.run(lambda: app.room_history(key, limit=PAGE, before_id=before_id), self._page_loaded)

    def _page_loaded(self, page: list[StoredMessage] | None, error: BaseException | None) -> None:
        if error is not None or page is None:
            log.warning("Could not load the history of %s: %s", self.room.name, error)
            self.model.load_failed()
            return
        self.model.prepend(page, has_more=len(page) >= PAGE)

    def _on_stored(self, event: MessageStored) -> None:
        if self.shows(event.message) and self.model.add(event.message) and self.is_seen():
            self.mark_read()

    def is_seen(self) -> bool:
        """Whether the user has this tab in front of them."""
        pane = self.parentWidget()
        while pane is not None and not isinstance(pane, QTabWidget):
            pane = pane.parentWidget()
        current = pane.currentWidget() if pane is not None else None
        return current is self and self.window().isActiveWindow()

    def mark_read(self) -> None:
        app, key = self._ctx.app, self.room.key
        self._ctx.bridge.post(lambda: app.mark_room_read(key))

    def on_current_tab(self, _index: int) -> None:
        if self.is_seen():
            self.mark_read()

    def _on_updated(self, event: MessageUpdated) -> None:
        if self.shows(event.message):
            self.model.update(event.message)

    # -- actions ----------------------------------------------------------------------------------

    def send(self) -> None:
        """Send the composer's text to the room (Enter, Send)."""
        self.sending.send()

    @property
    def reply_info(self) -> ReplyInfo | None:
        return self.sending.reply_info

    @property
    def policy_question(self) -> QMessageBox | None:
        return self.sending.policy_question

    def _topic_entered(self) -> None:
        text = self.topic.text()
        if self.topic.isReadOnly() or text == self.room.topic:
            return
        self.composer.clear_error()
        self._ctx.bridge.call(self._ctx.app.set_topic(self.room.key, text), self._topic_set)

    def _topic_set(self, _result: None, error: BaseException | None) -> None:
        if error is not None:
            self.topic.setText(self.room.topic)
            self._show_error(f"The topic was not changed: {error}")

    def join(self) -> None:
        self.join_button.setEnabled(False)
        self.composer.clear_error()
        room = self.room
        self._ctx.bridge.call(self._ctx.app.join_room(room.key.account_id, room.name, room.nick), self._joined)

    def _joined(self, _room: Room | None, error: BaseException | None) -> None:
        self.join_button.setEnabled(True)
        if error is not None:
            self._show_error(f"Not joined: {error}")

    def leave(self) -> None:
        self.leave_button.setEnabled(False)
        self._ctx.bridge.call(self._ctx.app.leave_room(self.room.key), self._left)

    def _left(self, _kept: Room | None, error: BaseException | None) -> None:
        self.leave_button.setEnabled(True)
        if error is not None:
            self._show_error(f"Could not leave the room: {error}")
            return
        self.left.emit(self.room.key)

    def _show_error(self, text: str) -> None:
        self.composer.show_error(text)


def room_tabs(pane: QTabWidget) -> list[RoomTab]:
    return [t for i in range(pane.count()) if isinstance(t := pane.widget(i), RoomTab)]


def room_tab(pane: QTabWidget, key: ConversationKey) -> RoomTab | None:
    return next((t for t in room_tabs(pane) if t.key == key), None)


def _room_icon(room: RoomRow) -> QIcon:
    return presence_icon(PresenceKind.AVAILABLE if room.joined else PresenceKind.OFFLINE)


def open_room(ctx: UiContext, pane: QTabWidget, room: RoomRow) -> RoomTab:
    """The room's tab in ``pane`` (made if needed), made current, the input focused."""
    tab = room_tab(pane, room.key)
    if tab is None:
        tab = RoomTab(ctx, room, pane)
        tab.left.connect(lambda key: close_room(pane, key))
        pane.currentChanged.connect(tab.on_current_tab)
        pane.addTab(tab, _room_icon(room), room.short_name)
        pane.setTabToolTip(pane.indexOf(tab), f"Room {room.name} on {room.account}")
    pane.setCurrentWidget(tab)
    tab.input.setFocus()
    tab.mark_read()
    return tab


def update_room(pane: QTabWidget, room: RoomRow) -> None:
    tab = room_tab(pane, room.key)
    if tab is not None:
        tab.set_room(room)
        index = pane.indexOf(tab)
        pane.setTabIcon(index, _room_icon(room))
        pane.setTabText(index, room.short_name)


def close_room(pane: QTabWidget, key: ConversationKey) -> None:
    tab = room_tab(pane, key)
    if tab is not None:
        pane.removeTab(pane.indexOf(tab))
        tab.deleteLater()
