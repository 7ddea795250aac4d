"""A stand-in for the desktop's notification daemon, run as a subprocess on the test's session bus.

``python -m tests.ui.fake_notifyd CAP...`` owns org.freedesktop.Notifications, answers
GetCapabilities with the CAPs, writes one JSON line per call it gets (``{"ready": true}`` first), and
on a stdin line ``click ID`` emits ``ActionInvoked(ID, "default")``.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal  # type: ignore[import-untyped]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

SERVICE = PATH = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"


def say(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main() -> None:
    caps = sys.argv[1:]
    conn = open_dbus_connection(bus="SESSION", enable_fds=False)
    conn.send_and_get_reply(message_bus.RequestName(SERVICE))
    emitter = DBusAddress(PATH, interface=SERVICE)
    lock = threading.Lock()

    def clicks() -> None:
        for line in sys.stdin:
            word, _, number = line.strip().partition(" ")
            if word == "click":
                with lock:
                    conn.send(new_signal(emitter, "ActionInvoked", "us", (int(number), "default")))

    threading.Thread(target=clicks, daemon=True).start()
    ids = itertools.count(1)
    say({"ready": True})
    while True:
        msg = conn.receive()
        if msg.header.message_type is not MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        signature = msg.header.fields.get(HeaderFields.signature, "")
        with lock:
            if member == "GetCapabilities":
                conn.send(new_method_return(msg, "as", (caps,)))
            elif member == "Notify" and signature == NOTIFY_SIGNATURE:
                number = next(ids)
                hints = {key: value[1] for key, value in msg.body[6].items()}
                say({"method": member, "id": number, "body": list(msg.body[:6]), "hints": hints})
                conn.send(new_method_return(msg, "u", (number,)))
            else:  # a daemon built on GDBus or QtDBus refuses a wrong signature
                say({"method": member, "refused": signature})
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs", "s", (f"bad {signature}",)))


if __name__ == "__main__":
    main()
