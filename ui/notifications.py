"""Desktop notifications behind one small interface: a ``Notifier`` shows a ``Notification`` and says
which person (or room) the user clicked. Backends: the freedesktop service (``ui.freedesktop``), the tray's
balloon, and a last resort that only logs. Tests capture notifications with their own ``Notifier``.

Texts are plain: title and body are shown as text, never interpreted as markup (each backend makes sure).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from aggregator.api import ConversationKey

log = logging.getLogger(__name__)

#: How long a balloon stays (the freedesktop service decides for itself).
BALLOON_MS = 8000


@dataclass(frozen=True, slots=True)
class Notification:
    title: str  # the person's name
    body: str  # a plain-text excerpt of the message
    person_id: int | None = None  # what a click opens
    room: ConversationKey | None = None  # or: the room a click opens (a mention)


class Notifier(QObject):
    """Shows notifications; ``clicked`` carries the person of the notification the user clicked,
    ``room_clicked`` the room (a ``ConversationKey``) of a room notification."""

    clicked = Signal(int)
    room_clicked = Signal(object)

    def show(self, notification: Notification) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop (at quit); later notifications are dropped."""


def no_markup(text: str) -> str:
    """Text that no markup parser turns into formatting: ``<`` and ``>`` become look-alike quotes.

    For backends that may or may not parse markup and cannot say which (Qt's tray balloon guesses
    rich text from the content; a tray on D-Bus hands the text to a daemon that may parse it):
    escaping would show ``&lt;`` where nothing parses, so the angle brackets go instead."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


class TrayNotifier(Notifier):
    """The tray icon's balloon (``QSystemTrayIcon.showMessage``); a click opens the last person (or room)
    shown."""

    def __init__(self, icon: QSystemTrayIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._icon = icon
        self._last: int | None = None
        self._last_room: ConversationKey | None = None
        icon.messageClicked.connect(self._clicked)

    def show(self, notification: Notification) -> None:
        self._last, self._last_room = notification.person_id, notification.room
        self._icon.showMessage(
            no_markup(notification.title),
            no_markup(notification.body),
            QSystemTrayIcon.MessageIcon.Information,
            BALLOON_MS,
        )

    def _clicked(self) -> None:
        if self._last is not None:
            self.clicked.emit(self._last)
        elif self._last_room is not None:
            self.room_clicked.emit(self._last_room)


class LogNotifier(Notifier):
    """Where the desktop has neither a notification service nor a tray: the log says what was missed."""

    def show(self, notification: Notification) -> None:
        log.info("New message from %s (no notification service or tray to show it)", notification.title)
