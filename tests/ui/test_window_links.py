"""One window per profile: a second launch raises the running window instead of starting another
instance, and a clicked link (``aggregator open LINK``) opens that conversation in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.conftest import cli_env
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from ui.conversation import ConversationTab

AGGREGATOR = Path(sys.executable).with_name("aggregator")


def launch(world: GuiWorld, *args: str) -> subprocess.CompletedProcess[str]:
    home = str(world.paths.config_dir.parent)
    return subprocess.run(
        [str(AGGREGATOR), *args], env=cli_env(Path(home)), capture_output=True, text=True, timeout=60
    )


def test_a_second_launch_raises_the_running_window(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running_session(gui_world, qtbot) as session:
        window = session.window
        window.showMinimized()
        qtbot.waitUntil(lambda: bool(window.windowState() & Qt.WindowState.WindowMinimized), timeout=5000)
        done = launch(gui_world, "gui")
        assert done.returncode == 0, done.stderr  # it handed over and left: no second window, no lock error
        qtbot.waitUntil(
            lambda: window.isVisible() and not window.windowState() & Qt.WindowState.WindowMinimized, timeout=5000
        )
        window.hide()  # minimised to the tray
        assert launch(gui_world).returncode == 0  # plain `aggregator`, as the menu entry starts it
        qtbot.waitUntil(window.isVisible, timeout=5000)


def test_a_link_opens_the_conversation_in_the_running_window(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running_session(w, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: any(p.best.handle == w.bob for p in window.model.persons()), timeout=10_000)
        bob = next(p for p in window.model.persons() if p.best.handle == w.bob)
        link = f"aggregator:open?account={quote(w.account_id, safe='')}&to={quote(w.bob, safe='')}"
        done = launch(w, "open", link)
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: isinstance(window.conversations.currentWidget(), ConversationTab), timeout=5000)
        tab = window.conversations.currentWidget()
        assert isinstance(tab, ConversationTab) and tab.person.id == bob.id

        # Someone not in the buddy list: said, nothing added or opened behind the user's back.
        stranger = f"aggregator:open?account={quote(w.account_id, safe='')}&to=mallory%40fake.test"
        assert launch(w, "open", stranger).returncode == 0
        qtbot.waitUntil(lambda: "mallory@fake.test is not in your buddy list" in window.statusBar().currentMessage())
        assert window.conversations.count() == 1

        # A protocol the profile has no account for.
        assert launch(w, "open", "xmpp:carol@example.org").returncode == 0
        qtbot.waitUntil(lambda: "No xmpp account" in window.statusBar().currentMessage())
