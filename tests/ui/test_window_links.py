"""One window per profile: a second launch raises the running window instead of starting another
instance, and a clicked link (``aggregator open LINK``) opens that conversation in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey
from tests.conftest import cli_env
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from ui.conversation import ConversationTab
from ui.room_tab import RoomTab

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


def test_a_room_link_fills_the_join_dialog_and_once_joined_opens_the_room(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    team = "team@rooms.fake.test"
    w.server.create_room(team, "release at five", topic_by="Carol")
    link = f"aggregator:open?account={quote(w.account_id, safe='')}&room={quote(team, safe='')}"
    with running_session(w, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(w.account_id), timeout=10_000)
        assert launch(w, "open", link).returncode == 0
        # Not in the room: nothing is joined behind the user's back; the Join dialog asks, filled in.
        qtbot.waitUntil(lambda: window.rooms.dialog is not None and window.rooms.dialog.isVisible(), timeout=5000)
        dialog = window.rooms.dialog
        assert dialog is not None and dialog.address.text() == team
        assert window.conversations.count() == 0
        qtbot.waitUntil(lambda: dialog.account.count() == 1, timeout=5000)
        dialog.join_button.click()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
        tab = window.conversations.currentWidget()
        assert isinstance(tab, RoomTab)
        window.conversations.removeTab(window.conversations.indexOf(tab))
        assert window.conversations.count() == 0

        # In the room: the link opens its tab.
        qtbot.waitUntil(lambda: window.model.room(ConversationKey.room(w.account_id, team)) is not None, timeout=5000)
        assert launch(w, "open", link).returncode == 0
        qtbot.waitUntil(lambda: isinstance(window.conversations.currentWidget(), RoomTab), timeout=5000)
        room_tab = window.conversations.currentWidget()
        assert isinstance(room_tab, RoomTab) and room_tab.key == ConversationKey.room(w.account_id, team)
