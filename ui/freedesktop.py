"""Notifications through the desktop's ``org.freedesktop.Notifications`` service on the session bus.

jeepney on two worker threads, not QtDBus: PySide6 has no QVariant, so QtDBus sends every Python
int as ``i`` and cannot produce the ``u`` of ``Notify``'s ``replaces_id``; the daemons (GDBus and
QtDBus ones alike) reject that call. The core's idle monitor uses jeepney the same way.

One thread sends (it asks whether the service exists and what it can do, then serves the queue); the
other listens for ``ActionInvoked`` (a click) and ``NotificationClosed``. Neither ever blocks the GUI:
a click comes back as the queued ``clicked`` signal. Without the service every notification goes to
``fallback`` (the tray's balloon), on the GUI thread.
"""

from __future__ import annotations

import contextlib
import html
import logging
import queue
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

import resources
from aggregator.api import ConversationKey
from ui.notifications import Notification, Notifier

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_NAME = "Aggregator"
TIMEOUT = 2.0
#: Names the daemon may ask for in hints; "im.received" is the spec's category for a new IM.
CATEGORY = "im.received"


def _file(traversable: object) -> Path | None:
    """The resource as a file the daemon (another process) can open: installed wheels have one."""
    return traversable if isinstance(traversable, Path) and traversable.is_file() else None


#: Our icon (even before `aggregator desktop install`) and the soft chime, for the daemon to use.
ICON = _file(resources.app_icon_png(64))
SOUND = _file(resources.notification_sound())


class FreedesktopNotifier(Notifier):
    _fallback_wanted = Signal(object)  # Notification, from the sending thread

    def __init__(self, fallback: Notifier, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fallback = fallback
        fallback.clicked.connect(self.clicked)
        fallback.room_clicked.connect(self.room_clicked)
        self._fallback_wanted.connect(self._to_fallback, Qt.ConnectionType.QueuedConnection)
        self._queue: queue.Queue[Notification | None] = queue.Queue()
        self._persons: dict[int, int] = {}
        self._rooms: dict[int, ConversationKey] = {}
        self._lock = threading.Lock()
        self._listener: Any = None
        #: Set once the click listener is subscribed (or gave up): no notification goes out before, so
        #: a click on it cannot arrive while nobody listens.
        self._listening = threading.Event()
        #: None until the service was asked; then whether it answers.
        self.available: bool | None = None
        self.markup = False
        self.actions = False
        self._sender = threading.Thread(target=self._send_loop, name="notifications", daemon=True)
        self._sender.start()

    def show(self, notification: Notification) -> None:
        self._queue.put(notification)

    def close(self) -> None:
        self._queue.put(None)
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()

    def person_of(self, notification_id: int) -> int | None:
        """The person a shown notification opens (until the daemon closes it)."""
        with self._lock:
            return self._persons.get(notification_id)

    def room_of(self, notification_id: int) -> ConversationKey | None:
        """The room a shown notification opens (a mention; until the daemon closes it)."""
        with self._lock:
            return self._rooms.get(notification_id)

    def _to_fallback(self, notification: Notification) -> None:
        self.fallback.show(notification)

    # -- the sending thread -----------------------------------------------------------------------

    def _send_loop(self) -> None:
        try:
            conn = _jeepney().io.blocking.open_dbus_connection(bus="SESSION", enable_fds=False)
        except Exception as exc:  # no session bus (or no jeepney: not Linux)
            log.info("No session bus for notifications (%r); using the tray", exc)
            conn = None
        self.available = conn is not None and self._probe(conn)
        if self.available:
            threading.Thread(target=self._listen_loop, name="notification-clicks", daemon=True).start()
            self._listening.wait(TIMEOUT)
        while (notification := self._queue.get()) is not None:
            if conn is None or not self.available or not self._notify(conn, notification):
                self._fallback_wanted.emit(notification)
        if conn is not None:
            conn.close()

    def _probe(self, conn: Any) -> bool:
        jeepney = _jeepney()
        message_bus = jeepney.bus_messages.message_bus
        try:
            owned = conn.send_and_get_reply(message_bus.NameHasOwner(SERVICE), timeout=TIMEOUT).body[0]
            activatable = (
                SERVICE in conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=TIMEOUT).body[0]
            )
            if not owned and not activatable:
                log.info("No notification service on the session bus; using the tray")
                return False
            call = jeepney.new_method_call(
                jeepney.DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE), "GetCapabilities"
            )
            reply = conn.send_and_get_reply(call, timeout=TIMEOUT)
        except Exception as exc:
            log.info("The notification service does not answer (%r); using the tray", exc)
            return False
        if reply.header.message_type.name != "method_return":
            log.info("The notification service refused GetCapabilities (%s); using the tray", reply.body)
            return False
        caps = set(reply.body[0])
        self.markup = "body-markup" in caps
        self.actions = "actions" in caps
        return True

    def _notify(self, conn: Any, notification: Notification) -> bool:
        jeepney = _jeepney()

        # The summary is plain text by the spec; the body is markup where the daemon says so.
        body = html.escape(notification.body, quote=False) if self.markup else notification.body
        opens = notification.person_id is not None or notification.room is not None
        actions = ["default", "Open the conversation"] if self.actions and opens else []
        hints = {"category": ("s", CATEGORY), "desktop-entry": ("s", resources.APP_ID)}
        if SOUND is not None:
            hints["sound-file"] = ("s", str(SOUND))
        icon = ICON.as_uri() if ICON is not None else ""
        call = jeepney.new_method_call(
            jeepney.DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE),
            "Notify",
            "susssasa{sv}i",
            (APP_NAME, 0, icon, notification.title, body, actions, hints, -1),
        )
        try:
            reply = conn.send_and_get_reply(call, timeout=TIMEOUT)
        except Exception as exc:
            log.warning("Could not show a notification (%r)", exc)
            return False
        if reply.header.message_type.name != "method_return":
            log.warning("The notification service refused a notification: %s", reply.body)
            return False
        with self._lock:
            if notification.person_id is not None:
                self._persons[int(reply.body[0])] = notification.person_id
            elif notification.room is not None:
                self._rooms[int(reply.body[0])] = notification.room
        return True

    # -- the listening thread ---------------------------------------------------------------------

    def _listen_loop(self) -> None:
        jeepney = _jeepney()
        message_bus = jeepney.bus_messages.message_bus
        try:
            conn = jeepney.io.blocking.open_dbus_connection(bus="SESSION", enable_fds=False)
            rule = jeepney.MatchRule(type="signal", interface=SERVICE, path=PATH)
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=TIMEOUT)
        except Exception as exc:
            log.info("Cannot listen for notification clicks (%r)", exc)
            self._listening.set()
            return
        self._listener = conn
        self._listening.set()
        while True:
            try:
                message = conn.receive()
            except Exception:  # closed at quit, or the bus went away
                return
            member = message.header.fields.get(jeepney.HeaderFields.member)
            if member == "ActionInvoked" and message.body[1] == "default":
                person, room = self.person_of(int(message.body[0])), self.room_of(int(message.body[0]))
                if person is not None:
                    self.clicked.emit(person)
                elif room is not None:
                    self.room_clicked.emit(room)
            elif member == "NotificationClosed":
                with self._lock:
                    self._persons.pop(int(message.body[0]), None)
                    self._rooms.pop(int(message.body[0]), None)


def _jeepney() -> Any:
    """jeepney (with keyring on Linux), imported when first needed: other systems have no session bus."""
    import jeepney  # type: ignore[import-untyped]
    import jeepney.bus_messages  # type: ignore[import-untyped]
    import jeepney.io.blocking  # type: ignore[import-untyped]

    return jeepney
