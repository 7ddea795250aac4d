"""When a new message gets a desktop notification, and what it says.

A notification is shown for a new incoming direct message (chat or /me) and for a room message that
mentions us (``aggregator.rooms.mentions``), never for our own messages (sent here or echoed from
another device), never for backfilled history, never for the conversation that is open and focused in
the active window, and never while ``core.status.notifications_held`` says the account's sphere is off
duty (work hours). A message without a notification stays unread. Other room messages get none.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from aggregator.api import ConversationKind, MessageKind
from aggregator.app.types import Direction, StoredMessage
from aggregator.events import MessageStored
from ui.context import UiContext
from ui.conversation import ConversationPane, ConversationTab
from ui.freedesktop import FreedesktopNotifier
from ui.notifications import LogNotifier, Notification, Notifier, TrayNotifier
from ui.room_tab import RoomTab

log = logging.getLogger(__name__)

#: Characters of the message shown in a notification.
EXCERPT = 160
_NOTIFIED_KINDS = (MessageKind.CHAT, MessageKind.ACTION)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")


def excerpt(body: str, limit: int = EXCERPT) -> str:
    """One line of plain text: control and bidi-override characters dropped, whitespace collapsed."""
    text = _SPACE.sub(" ", _CONTROL.sub("", body)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def wanted(message: StoredMessage) -> bool:
    """Whether the message is of the kind that may notify (before mentions, focus and work hours)."""
    return message.direction is Direction.IN and not message.is_backfill and message.kind in _NOTIFIED_KINDS


def conversation_focused(window: QWidget, pane: ConversationPane, message: StoredMessage) -> bool:
    """Whether the message's conversation is the current tab of ``window`` and that window is active."""
    tab = pane.currentWidget()
    return (
        window.isActiveWindow()
        and not window.isMinimized()
        and isinstance(tab, (ConversationTab, RoomTab))
        and pane.isVisible()
        and tab.shows(message)
    )


@dataclass(frozen=True, slots=True)
class Sender:
    person_id: int | None
    name: str
    held: bool
    notify: bool = True  # False: a room message that does not mention us
    actor: str = ""  # the name in "* name waves" when it is not ``name`` (a room: the nick)


def sender_of(event: MessageStored) -> Sender:
    """Who wrote (the person's name; in a room "nick in room"), whether notifications wait, and whether
    a room message mentions us: all carried by the event (``aggregator.app.enrich``)."""
    message, held = event.message, event.notifications_held
    nick = event.sender_display or message.sender_name or message.sender
    if message.conversation.kind is ConversationKind.ROOM:
        where = event.conversation_title or message.conversation.handle
        return Sender(None, f"{nick} in {where}", held, notify=event.mentions_us, actor=nick)
    return Sender(event.person_id, event.conversation_title if event.person_id is not None else nick, held)


class MessageAlerts(QObject):
    opened = Signal(int)  # a person whose notification was clicked
    room_opened = Signal(object)  # ConversationKey: a room whose notification (a mention) was clicked
    shown = Signal(object)  # Notification, after it went to the notifier
    held = Signal(object)  # StoredMessage that got none because its sphere is off duty

    def __init__(
        self,
        ctx: UiContext,
        notifier: Notifier,
        focused: Callable[[StoredMessage], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._focused = focused
        self._notifier = notifier
        notifier.clicked.connect(self.opened)
        notifier.room_clicked.connect(self.room_opened)
        ctx.bridge.message_stored.connect(self._on_stored)

    @property
    def notifier(self) -> Notifier:
        return self._notifier

    def set_notifier(self, notifier: Notifier) -> None:
        self._notifier.clicked.disconnect(self.opened)
        self._notifier.room_clicked.disconnect(self.room_opened)
        self._notifier = notifier
        notifier.clicked.connect(self.opened)
        notifier.room_clicked.connect(self.room_opened)

    def close(self) -> None:
        self._notifier.close()

    def _on_stored(self, event: MessageStored) -> None:
        message = event.message
        if not wanted(message) or self._focused(message):
            return
        self._notify(message, sender_of(event))

    def _notify(self, message: StoredMessage, sender: Sender) -> None:
        if not sender.notify:
            return
        if sender.held:
            log.debug("Notification for message %s held: its sphere is off duty", message.id)
            self.held.emit(message)
            return
        body = excerpt(message.body)
        if message.kind is MessageKind.ACTION:
            body = f"* {sender.actor or sender.name} {body}"
        room = message.conversation if message.conversation.kind is ConversationKind.ROOM else None
        notification = Notification(title=excerpt(sender.name, 80), body=body, person_id=sender.person_id, room=room)
        self._notifier.show(notification)
        self.shown.emit(notification)


def desktop_alerts(
    ctx: UiContext, window: QWidget, pane: ConversationPane, tray: QSystemTrayIcon | None, parent: QObject
) -> MessageAlerts:
    """Alerts through the freedesktop service, else the tray's balloon, else the log."""
    fallback: Notifier = TrayNotifier(tray, parent) if tray is not None else LogNotifier(parent)
    notifier = FreedesktopNotifier(fallback, parent)
    return MessageAlerts(ctx, notifier, lambda m: conversation_focused(window, pane, m), parent)
