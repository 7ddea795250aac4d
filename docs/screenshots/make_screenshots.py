"""Screenshots of the desktop app on a fake account, for the README.

Run under Xvfb with a keyring session (the account's password goes to the keyring)::

    dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d);
      echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1;
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/make_screenshots.py'

Writes main-window.png, conversation.png, log-viewer.png and account-dialog.png next to this file.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import PresenceKind, Sphere
from aggregator.engine import EngineThread
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from protocols.fake.server import FakeServer
from ui.app import start_session

OUT = Path(__file__).resolve().parent


def wait(app: QApplication, check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the app")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(widget: QWidget, name: str) -> None:
    path = OUT / name
    widget.grab().save(str(path))
    sys.stderr.write(f"wrote {path}\n")


def main() -> int:
    app = QApplication(sys.argv[:1])
    server_thread = EngineThread("fake-server")
    server_thread.start()
    server = FakeServer()
    alice = server.add_user("alice@fake.test", "alice-pw")
    people = {
        "bob@fake.test": (PresenceKind.AVAILABLE, "Reviewing the Q3 plan"),
        "carol@fake.test": (PresenceKind.AWAY, "lunch, back at 2"),
        "dave@fake.test": (PresenceKind.BUSY, "in a meeting"),
        "erin@fake.test": (PresenceKind.OFFLINE, ""),
        "frank@fake.test": (PresenceKind.AVAILABLE, ""),
    }
    for address in people:
        server.add_user(address, "pw")
    server_thread.call(server.start())
    home = Path(tempfile.mkdtemp(prefix="aggregator-shots-"))
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    account_id = make_account_id("fake", alice)
    AccountStore(paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="fake",
            address=alice,
            label="Work (fake)",
            server=server.address,
            allow_plaintext=True,
            sphere=Sphere.WORK,
        )
    )
    secrets = SecretStore(profile_id(paths))
    secrets.set_password(account_id, "alice-pw")
    for address, (kind, status) in people.items():
        server_thread.call(server.set_presence(address, kind, status))
    now = datetime.now(UTC)
    history = [
        ("bob@fake.test", "Morning! Did you see the new build?", 50),
        ("bob@fake.test", "Release notes are at https://example.org/releases/1.4 <b>not bold</b>", 49),
        ("carol@fake.test", "Can we move the sync to Thursday?", 30),
        ("dave@fake.test", "<script>alert('hi')</script> is just text here", 20),
    ]
    for sender, body, minutes in history:
        server_thread.call(server.deliver(sender, alice, body, timestamp=now - timedelta(minutes=minutes)))

    session = start_session(paths, ProtocolRegistry.discover())
    window = session.window
    window.resize(1000, 640)
    window.show()
    try:
        wait(app, lambda: "connected" in window.accounts_strip.state_text(account_id))
        wait(app, lambda: len(window.model.persons()) >= len(people))
        wait(app, lambda: any(p.status for p in window.model.persons()))
        settle(app, 1.0)
        shoot(window, "main-window.png")

        bob = next(p for p in window.model.persons() if p.best.handle == "bob@fake.test")
        tab = window.open_person(bob.id)
        assert tab is not None
        wait(app, lambda: len(tab.model.messages) >= 2)
        tab.input.setPlainText("Yes, looks good. Shipping it after lunch.")
        tab.send()
        wait(app, lambda: len(tab.model.messages) >= 3)
        server_thread.call(
            server.deliver(
                "bob@fake.test", alice, "Great, thanks! Ping me if anything breaks: https://status.example.org"
            )
        )
        wait(app, lambda: len(tab.model.messages) >= 4)
        settle(app, 1.0)
        shoot(window, "conversation.png")

        extra = getattr(session.windows, "screenshot_extras", None)
        if extra is not None:
            extra(app, shoot, settle)
    finally:
        window.close()
        session.shutdown()
        server_thread.call(server.stop())
        server_thread.stop()
        secrets.delete(account_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
