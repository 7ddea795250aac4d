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
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import PresenceKind, Sphere
from aggregator.engine import EngineThread
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from protocols.fake.server import FakeServer
from ui.app import start_session
from ui.icons import app_icon

OUT = Path(__file__).resolve().parent


def wait(app: QApplication, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    server_thread = EngineThread("fake-server")
    server_thread.start()
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    people = {
        "bob@fake.test": (PresenceKind.AVAILABLE, "Reviewing the Q3 plan"),
        "carol@fake.test": (PresenceKind.AWAY, "lunch, back at 2"),
        "dave@fake.test": (PresenceKind.EXTENDED_AWAY, "on holiday until Monday"),
        "erin@fake.test": (PresenceKind.BUSY, "in a meeting"),
        "frank@fake.test": (PresenceKind.OFFLINE, ""),
    }
    for address in people:
        server.add_user(address, "pw")
    server_thread.call(server.start())
    paths = ProfilePaths.resolve(Path(tempfile.mkdtemp(prefix="aggregator-shots-")))
    paths.ensure()
    account_id = make_account_id("fake", alice)
    AccountStore(paths.accounts_file).add(
        AccountConfig(id=account_id, protocol="fake", address=alice, label="Work (fake)",
                      server=server.address, allow_plaintext=True, sphere=Sphere.WORK)
    )
    SecretStore(profile_id(paths)).set_password(account_id, "alice-pw")
    for address, (kind, status) in people.items():
        server_thread.call(server.set_presence(address, kind, status))
    session = start_session(paths, ProtocolRegistry.discover())
    window = session.window
    window.resize(760, 420)
    window.show()
    try:
        wait(app, lambda: "connected" in window.accounts_strip.state_text(account_id), "the account to connect")
        wait(app, lambda: len(window.model.persons()) >= len(people), "the buddy list")
        wait(app, lambda: sum(1 for p in window.model.persons() if p.status) >= 4, "the contacts' statuses")
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        if not window.grab().save(str(OUT / "window-icons.png")):
            raise SystemExit("could not write window-icons.png")
    finally:
        window.close()
        session.shutdown()
        server_thread.call(server.stop())
        server_thread.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
