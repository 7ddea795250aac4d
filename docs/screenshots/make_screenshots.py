"""Screenshots of the desktop app on a fake account, for the README.

Run under Xvfb with a keyring session (the account's password goes to the keyring)::

    dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d);
      echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/make_screenshots.py'

Writes main-window.png, conversation.png, room.png, quick-switcher.png, preferences.png,
log-viewer.png, import-history.png, accounts.png and account-dialog.png next to this file. Every shot waits for its data
(the account connected, the messages, the members, the search results); only the final paint gets a
short settle. A wait that times out names what it waited for and exits non-zero.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication

from aggregator.api import PresenceKind
from aggregator.engine import EngineThread
from protocols.fake.server import FakeServer
from ui.app import Session
from ui.main_window import MainWindow
from ui.room_tab import RoomTab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import OUT, fake_account, main_window, serving, settle, shoot, shoot_over, wait

ROOM = "release@rooms.fake.test"


def shoot_room(app: QApplication, window: MainWindow, server_thread: EngineThread, server: FakeServer) -> None:
    """A room with a topic, members and a few messages (scripted members of the fake server)."""
    server.create_room(ROOM, "Release 1.4 on Thursday: checklist in the wiki", topic_by="Carol")
    for user, nick in (("bob@fake.test", "Bob"), ("carol@fake.test", "Carol"), ("dave@fake.test", "Dave")):
        server_thread.call(server.enter_room(user, ROOM, nick))
    dialog = window.rooms.show_join_dialog()
    wait(app, lambda: dialog.account.count() >= 1, "the Join room dialog's accounts")
    dialog.address.setText(ROOM)
    dialog.nick.setText("Alice")
    dialog.join_button.click()
    wait(app, lambda: not dialog.isVisible() and isinstance(window.conversations.currentWidget(), RoomTab), "the join")
    tab = window.conversations.currentWidget()
    assert isinstance(tab, RoomTab)
    wait(app, lambda: len(tab.members.nicks) == 4, "the room's members")
    window.activateWindow()  # back from the dialogs: the room in front of the user reads its messages
    wait(app, window.isActiveWindow, "the main window to be active again")
    said = [
        ("carol@fake.test", "Morning all: the build is green, release notes are next"),
        ("bob@fake.test", "I'll take the notes. Anything <b>big</b> to mention?"),
        ("dave@fake.test", "The importer for Trillian logs, and the new log viewer filters"),
    ]
    for user, body in said:
        server_thread.call(server.say_in_room(user, ROOM, body))
    wait(app, lambda: said[-1][1] in tab.view.toPlainText(), "the room's messages")
    tab.input.setPlainText("Great, I'll post the announcement at five.")
    tab.send()
    wait(app, lambda: "Great, I'll post" in tab.view.toPlainText(), "our room message")
    wait(app, lambda: window.model.room(tab.key) is not None, "the room in the buddy list")
    settle(app, 0.5)
    shoot(window, "room.png")


def shoot_switcher(app: QApplication, window: MainWindow) -> None:
    switcher = window.show_switcher()
    wait(app, switcher.isVisible, "the quick switcher")
    switcher.filter.setText("a")
    wait(app, lambda: switcher.model.rowCount() >= 2 and switcher.list.currentIndex().isValid(), "its matches")
    settle(app, 0.3)
    shoot_over(app, window, switcher, "quick-switcher.png")
    switcher.close()


def shoot_dialogs(app: QApplication, session: Session) -> None:
    """Preferences, the log viewer (a search and the context of its newest hit) and the accounts."""
    windows = session.windows
    preferences = windows.show_preferences()
    wait(app, lambda: preferences.snapshot is not None and preferences.isEnabled(), "the preferences")
    settle(app, 0.3)
    shoot(preferences, "preferences.png")
    preferences.close()

    viewer = windows.show_log_viewer()
    viewer.query.setText("release")
    viewer.run_query()
    wait(app, lambda: viewer.model.rowCount() > 0, "the search results")
    viewer.focus_results()  # the newest result selected: its context shows below
    wait(app, lambda: viewer.context_view.shown is not None, "the context of the newest result")
    settle(app, 0.3)
    shoot(viewer, "log-viewer.png")
    viewer.close()

    importer = windows.show_import()
    importer.folder.setText(str(OUT.parents[1] / "tests" / "data" / "trillian"))
    importer.names.setText("Barade")
    importer.zone.setText("Europe/Berlin")
    importer.start()
    wait(app, lambda: importer.outcomes is not None, "the history import")
    settle(app, 0.3)
    shoot(importer, "import-history.png")
    importer.close()

    dialog = windows.show_accounts()
    wait(app, lambda: dialog.list.count() >= 1, "the accounts list")
    settle(app, 0.3)
    shoot(dialog, "accounts.png")
    editor = dialog.editor()
    editor.protocol.setCurrentIndex(max(0, editor.protocol.findData("xmpp")))
    editor.show()
    settle(app, 0.3)
    shoot(editor, "account-dialog.png")
    editor.close()
    dialog.close()


def main() -> int:
    app = QApplication(sys.argv[:1])
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    people = {
        "bob@fake.test": (PresenceKind.AVAILABLE, "Reviewing the Q3 plan"),
        "carol@fake.test": (PresenceKind.AWAY, "lunch, back at 2"),
        "dave@fake.test": (PresenceKind.BUSY, "in a meeting"),
        "erin@fake.test": (PresenceKind.OFFLINE, ""),
        "frank@fake.test": (PresenceKind.AVAILABLE, ""),
    }
    home = Path(tempfile.mkdtemp(prefix="aggregator-shots-"))
    with (
        serving(server, people) as server_thread,
        fake_account(home, server, alice, "alice-pw") as (paths, account_id),
    ):
        now = datetime.now(UTC)
        history = [
            ("bob@fake.test", "Morning! Did you see the new build?", 50),
            ("bob@fake.test", "Release notes are at https://example.org/releases/1.4 <b>not bold</b>", 49),
            ("carol@fake.test", "Can we move the sync to Thursday?", 30),
            ("dave@fake.test", "<script>alert('hi')</script> is just text here", 20),
        ]
        for sender, body, minutes in history:
            server_thread.call(server.deliver(sender, alice, body, timestamp=now - timedelta(minutes=minutes)))

        with main_window(paths) as session:
            window = session.window
            window.activateWindow()  # the open conversation then counts as read, as in front of a user
            wait(app, lambda: "connected" in window.accounts_strip.state_text(account_id), "the account to connect")
            wait(app, window.isActiveWindow, "the main window to be active")
            wait(app, lambda: len(window.model.persons()) >= len(people), "the buddy list")
            statuses = sum(1 for _kind, status in people.values() if status)
            wait(app, lambda: sum(1 for p in window.model.persons() if p.status) >= statuses, "the contacts' statuses")
            settle(app, 0.5)
            shoot(window, "main-window.png")

            bob = next(p for p in window.model.persons() if p.best.handle == "bob@fake.test")
            tab = window.open_person(bob.id)
            assert tab is not None
            wait(app, lambda: len(tab.model.messages) >= 2, "bob's history")
            tab.input.setPlainText("Yes, looks good. Shipping it after lunch.")
            tab.send()
            wait(app, lambda: len(tab.model.messages) >= 3, "our message")
            server_thread.call(
                server.deliver(
                    "bob@fake.test", alice, "Great, thanks! Ping me if anything breaks: https://status.example.org"
                )
            )
            wait(app, lambda: len(tab.model.messages) >= 4, "bob's answer")
            settle(app, 0.5)
            shoot(window, "conversation.png")

            shoot_switcher(app, window)
            shoot_dialogs(app, session)
            shoot_room(app, window, server_thread, server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
