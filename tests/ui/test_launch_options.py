"""``aggregator gui --minimized`` (the autostart entry) and ``aggregator gui LINK`` on a fresh start:
the window starts in the tray or minimised, and the link's conversation opens once the list is there."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from aggregator.desktop.uri import parse_link
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld
from ui import app as ui_app
from ui.app import Session
from ui.conversation import ConversationTab


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Session]:
    """The sessions ``launch`` starts (to look at their window from inside the stubbed event loop)."""
    sessions: list[Session] = []
    real = ui_app.start_session

    def start(*args: Any, **kwargs: Any) -> Session:
        sessions.append(real(*args, **kwargs))
        return sessions[-1]

    monkeypatch.setattr(ui_app, "start_session", start)
    return sessions


def test_minimized_start_keeps_the_window_out_of_the_way(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, started: list[Session]
) -> None:
    seen: dict[str, bool] = {}

    def run_loop(self: QApplication) -> int:  # instead of app.exec(): look, then quit
        window = started[0].window
        seen["shown normally"] = window.isVisible() and not window.windowState() & Qt.WindowState.WindowMinimized
        return 0

    monkeypatch.setattr(QApplication, "exec", run_loop)
    assert ui_app.launch(gui_world.paths, ProtocolRegistry.discover(), minimized=True) == 0
    assert seen == {"shown normally": False}


def test_a_link_on_a_fresh_start_opens_its_conversation(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, started: list[Session]
) -> None:
    w = gui_world
    link = parse_link(f"aggregator:open?account={quote(w.account_id, safe='')}&to={quote(w.bob, safe='')}")
    opened: list[str] = []

    def run_loop(self: QApplication) -> int:
        window = started[0].window
        assert window.isVisible()
        qtbot.waitUntil(lambda: isinstance(window.conversations.currentWidget(), ConversationTab), timeout=10_000)
        tab = window.conversations.currentWidget()
        assert isinstance(tab, ConversationTab)
        opened.append(tab.person.best.handle)
        return 0

    monkeypatch.setattr(QApplication, "exec", run_loop)
    # A fresh profile: bob is not in the archive yet, he arrives with alice's roster once the account has
    # connected; the link waits for him.
    assert ui_app.launch(w.paths, ProtocolRegistry.discover(), link=link) == 0
    assert opened == [w.bob]
