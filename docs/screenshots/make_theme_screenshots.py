"""Screenshots of the light and the dark theme, the first run and the empty states, on the fake adapter.

Run under Xvfb with a keyring session, like make_screenshots.py::

    dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d);
      echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" \
        .venv/bin/python docs/screenshots/make_theme_screenshots.py'

Writes theme-light.png, theme-dark.png (a populated buddy list and an open conversation with a search hit),
first-run.png and first-run-dark.png (a profile without accounts, Pidgin's logs found in
~/.purple/logs), first-run-xmpp.png (the
XMPP account editor it opens), empty-states.png (an account without contacts), no-match.png (the filter
finds no one), no-rooms.png (the Rooms menu) and no-results.png (a search that finds nothing).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication

from aggregator.api import PresenceKind
from aggregator.paths import ProfilePaths
from protocols.fake.server import FakeServer
from ui.first_run_empty import rooms_menu
from ui.theme_colors import ThemeMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import OUT, fake_account, main_window, serving, settle, shoot, shoot_over, wait

DATA = OUT.parents[1] / "tests" / "data"


def shoot_themes(app: QApplication, scratch: Path) -> None:
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    people = {
        "bob@fake.test": (PresenceKind.AVAILABLE, "Reviewing the Q3 plan"),
        "carol@fake.test": (PresenceKind.AWAY, "lunch, back at 2"),
        "dave@fake.test": (PresenceKind.BUSY, "in a meeting"),
        "erin@fake.test": (PresenceKind.EXTENDED_AWAY, "on holiday until Monday"),
        "frank@fake.test": (PresenceKind.OFFLINE, ""),
    }
    with (
        serving(server, people) as server_thread,
        fake_account(scratch / "themes", server, alice, "alice-pw") as (paths, account_id),
    ):
        now = datetime.now(UTC)
        history = [
            ("bob@fake.test", "Morning! Did you see the new build?", 50),
            ("bob@fake.test", "Release notes: https://example.org/releases/1.4", 49),
            ("bob@fake.test", "The installer is signed now, found it in the search", 48),
        ]
        for sender, body, minutes in history:
            server_thread.call(server.deliver(sender, alice, body, timestamp=now - timedelta(minutes=minutes)))
        with main_window(paths) as session:
            window = session.window
            window.activateWindow()
            wait(app, lambda: "connected" in window.accounts_strip.state_text(account_id), "the account to connect")
            wait(app, lambda: len(window.model.persons()) >= len(people), "the buddy list")
            wait(app, lambda: sum(1 for p in window.model.persons() if p.status) >= 4, "the statuses")
            bob = next(p for p in window.model.persons() if p.best.handle == "bob@fake.test")
            tab = window.open_person(bob.id)
            assert tab is not None
            wait(app, lambda: len(tab.model.messages) >= 3, "bob's history")
            tab.input.setPlainText("Yes, looks good. Shipping it after lunch.")
            tab.send()
            wait(app, lambda: len(tab.model.messages) >= 4, "our message")
            hit = next(m for m in tab.model.messages if "installer" in m.body)
            tab.view.highlight(hit.id)  # as when the log viewer opened it: the search hit's colours
            cursor = tab.view.textCursor()
            cursor.clearSelection()
            tab.view.setTextCursor(cursor)
            window.theme.set_mode(ThemeMode.LIGHT)
            settle(app, 0.5)
            shoot(window, "theme-light.png")
            window.theme.set_mode(ThemeMode.DARK)
            settle(app, 0.5)
            shoot(window, "theme-dark.png")
            window.theme.set_mode(ThemeMode.SYSTEM)


def shoot_first_run(app: QApplication, scratch: Path) -> None:
    home = scratch / "user"
    shutil.copytree(DATA / "pidgin" / "p2a-text" / "logs", home / ".purple" / "logs")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)  # the default folders the first run looks in
    try:
        paths = ProfilePaths.resolve(scratch / "new-profile")
        with main_window(paths) as session:
            window = session.window
            page = window.first_run
            wait(app, lambda: window.right.currentWidget() is page, "the first-run page")
            wait(app, lambda: len(page.import_buttons) == 1, "the Pidgin logs found")
            wait(app, window.empty_list.label.isVisible, "the empty buddy list")
            settle(app, 0.5)
            shoot(window, "first-run.png")
            window.theme.set_mode(ThemeMode.DARK)
            settle(app, 0.5)
            shoot(window, "first-run-dark.png")
            window.theme.set_mode(ThemeMode.SYSTEM)
            editor = page.add_account("xmpp")
            wait(app, editor.isVisible, "the XMPP account editor")
            settle(app, 0.3)
            shoot(editor, "first-run-xmpp.png")
            editor.reject()
    finally:
        if old_home is not None:
            os.environ["HOME"] = old_home


def shoot_empty_states(app: QApplication, scratch: Path) -> None:
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    with (
        serving(server, {}),
        fake_account(scratch / "lonely", server, alice, "alice-pw") as (paths, account_id),
        main_window(paths) as session,
    ):
        window = session.window
        wait(app, lambda: "connected" in window.accounts_strip.state_text(account_id), "the account to connect")
        wait(app, lambda: window.first_run.needed is False, "the account count")
        wait(app, window.empty_list.label.isVisible, "the empty buddy list")
        settle(app, 0.5)
        shoot(window, "empty-states.png")

        window.filter.setText("zoe")
        wait(app, lambda: "zoe" in window.empty_list.label.text(), "the filter's empty state")
        settle(app, 0.3)
        shoot(window, "no-match.png")
        window.filter.clear()

        menu = rooms_menu(window.menuBar())
        assert menu is not None
        window.activateWindow()
        menu.popup(window.mapToGlobal(window.menuBar().geometry().bottomLeft()))
        wait(app, menu.isVisible, "the Rooms menu")
        settle(app, 0.3)
        shoot_over(app, window, menu, "no-rooms.png")
        menu.close()

        viewer = session.windows.show_log_viewer()
        viewer.query.setText("quarterly")
        viewer.run_query()
        wait(app, lambda: viewer.status.text().startswith("No messages match"), "the empty search")
        settle(app, 0.3)
        shoot(viewer, "no-results.png")
        viewer.close()


def main() -> int:
    app = QApplication(sys.argv[:1])
    scratch = Path(tempfile.mkdtemp(prefix="aggregator-theme-shots-"))
    shoot_themes(app, scratch)
    shoot_first_run(app, scratch)
    shoot_empty_states(app, scratch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
