"""What the screenshot scripts share: a FakeServer on its own thread, a profile with one fake account,
the main window, waiting for what a shot shows, and writing the PNG next to this file.

Run the scripts under Xvfb with a keyring session (see make_screenshots.py).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
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
from ui.app import Session, start_session

OUT = Path(__file__).resolve().parent


def wait(app: QApplication, check: Callable[[], bool], what: str = "the app", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(widget: QWidget, name: str) -> None:
    path = OUT / name
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    sys.stderr.write(f"wrote {path}\n")


def shoot_over(app: QApplication, window: QWidget, popup: QWidget, name: str) -> None:
    """The window with a popup over it, as the screen shows them (the popup is its own top level)."""
    app.processEvents()
    area = window.frameGeometry().united(popup.frameGeometry())
    screen = window.screen()
    path = OUT / name
    if not screen.grabWindow(0, area.x(), area.y(), area.width(), area.height()).save(str(path)):
        raise SystemExit(f"could not write {path}")
    sys.stderr.write(f"wrote {path}\n")


#: Buddies of the fake server: address -> (presence, status message).
People = Mapping[str, tuple[PresenceKind, str]]


@contextlib.contextmanager
def serving(server: FakeServer, people: People | None = None) -> Iterator[EngineThread]:
    """``server`` started on its own loop thread (the thread that runs its calls), with ``people`` as
    its users showing their presence; stopped on leaving."""
    for address in people or {}:
        server.add_user(address, "pw")
    thread = EngineThread("fake-server")
    thread.start()
    thread.call(server.start())
    for address, (kind, status) in (people or {}).items():
        thread.call(server.set_presence(address, kind, status))
    try:
        yield thread
    finally:
        thread.call(server.stop())
        thread.stop()


@contextlib.contextmanager
def fake_account(
    home: Path,
    server: FakeServer,
    address: str,
    password: str,
    *,
    label: str = "Work (fake)",
    sphere: Sphere = Sphere.WORK,
    options: dict[str, str] | None = None,
) -> Iterator[tuple[ProfilePaths, str]]:
    """The profile at ``home`` with the fake account ``address`` on ``server`` (its password in the
    keyring, forgotten on leaving): the profile's paths and the account's id."""
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    account_id = make_account_id("fake", address)
    AccountStore(paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="fake",
            address=address,
            label=label,
            server=server.address,
            allow_plaintext=True,
            sphere=sphere,
            options=options or {},
        )
    )
    secrets = SecretStore(profile_id(paths))
    secrets.set_password(account_id, password)
    try:
        yield paths, account_id
    finally:
        secrets.delete(account_id)


@contextlib.contextmanager
def main_window(paths: ProfilePaths, width: int = 1000, height: int = 640) -> Iterator[Session]:
    """The app's session on ``paths`` with its main window shown, closed and shut down on leaving."""
    session = start_session(paths, ProtocolRegistry.discover())
    window = session.window
    window.resize(width, height)
    window.show()
    try:
        yield session
    finally:
        window.close()
        session.shutdown()
