"""A screenshot of a room's composer, which is the person tab's: the organisation's notice, a ``/me``
action, a message the server refused (with its reason and Retry), and ``/help`` answered locally.

Run under Xvfb with a keyring session, like ``make_screenshots.py``::

    dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d);
      echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" \\
        .venv/bin/python docs/screenshots/make_room_composer_screenshot.py'

Writes room-composer.png next to this file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from aggregator.api import MessageState
from aggregator.archive.records import Direction
from protocols.fake.server import FakeServer
from ui.room_tab import RoomTab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import fake_account, main_window, serving, settle, shoot, wait

ROOM = "release@rooms.fake.test"
POLICY = '[rules.work]\nbanner = "Work conversations are archived by Example Corp."\n'


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="aggregator-room-shots-"))
    policy = home / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    os.environ["AGGREGATOR_POLICY"] = str(policy)
    app = QApplication(sys.argv[:1])
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    for address in ("bob@fake.test", "carol@fake.test"):
        server.add_user(address, "pw")
    with (
        serving(server) as server_thread,
        fake_account(home / "profile", server, alice, "alice-pw", options={"autojoin": f"{ROOM}/Alice"}) as (
            paths,
            _account_id,
        ),
    ):
        server.create_room(ROOM, "Release 1.4 on Thursday", topic_by="Carol")
        server_thread.call(server.enter_room("bob@fake.test", ROOM, "Bob"))
        server_thread.call(server.enter_room("carol@fake.test", ROOM, "Carol"))
        with main_window(paths) as session:
            window = session.window
            window.activateWindow()
            wait(app, lambda: any(r.joined and r.name == ROOM for r in window.model.rooms()), "the room to be joined")
            room = next(r for r in window.model.rooms() if r.name == ROOM)
            tab = window.rooms.open(room.key)
            assert isinstance(tab, RoomTab)
            wait(app, lambda: tab.reply_info is not None and tab.banner.isVisible(), "the policy notice")
            server_thread.call(server.say_in_room("carol@fake.test", ROOM, "Build is green. Who writes the notes?"))
            wait(app, lambda: "Who writes the notes?" in tab.view.toPlainText(), "Carol's message")

            def type_and_send(text: str) -> None:
                QTest.keyClicks(tab.input, text)
                QTest.keyClick(tab.input, Qt.Key.Key_Return)

            type_and_send("/me takes the release notes")
            wait(app, lambda: "takes the release notes ✓" in tab.view.toPlainText(), "our action")
            server.reject_sends = True
            type_and_send("Draft is in the wiki")
            wait(
                app,
                lambda: any(
                    m.direction is Direction.OUT and m.state is MessageState.FAILED for m in tab.model.messages
                ),
                "the refused message",
            )
            server.reject_sends = False
            type_and_send("/help")
            wait(app, tab.composer.note.isVisible, "the list of commands")
            wait(app, lambda: window.model.room(tab.key) is not None, "the room in the buddy list")
            settle(app, 0.5)
            shoot(window, "room-composer.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
