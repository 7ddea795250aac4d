"""The window with the project's own icons (issue 19): presence of every kind in the buddy list, the
app icon, and the contact sheet of all icons on light and dark.

    dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d);
      echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" \
        .venv/bin/python docs/screenshots/make_icon_screenshots.py'

Writes window-icons.png next to this file (icons.png comes from scripts/render_icons.py --sheet).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from aggregator.api import PresenceKind
from protocols.fake.server import FakeServer
from ui.icons import app_icon

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shots import fake_account, main_window, serving, settle, shoot, wait


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    people = {
        "bob@fake.test": (PresenceKind.AVAILABLE, "Reviewing the Q3 plan"),
        "carol@fake.test": (PresenceKind.AWAY, "lunch, back at 2"),
        "dave@fake.test": (PresenceKind.EXTENDED_AWAY, "on holiday until Monday"),
        "erin@fake.test": (PresenceKind.BUSY, "in a meeting"),
        "frank@fake.test": (PresenceKind.OFFLINE, ""),
    }
    home = Path(tempfile.mkdtemp(prefix="aggregator-shots-"))
    with (
        serving(server, people),
        fake_account(home, server, alice, "alice-pw") as (paths, account_id),
        main_window(paths, 760, 420) as session,
    ):
        window = session.window
        wait(app, lambda: "connected" in window.accounts_strip.state_text(account_id), "the account to connect")
        wait(app, lambda: len(window.model.persons()) >= len(people), "the buddy list")
        wait(app, lambda: sum(1 for p in window.model.persons() if p.status) >= 4, "the contacts' statuses")
        settle(app, 0.5)
        shoot(window, "window-icons.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
