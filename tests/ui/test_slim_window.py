"""A slim, buddy-list-only window (docked at a screen edge): nothing holds the window wide, the
conversation area hides below a width and the list fills the window; opening a conversation widens it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from aggregator.api import Sphere
from tests.ui.conftest import GuiWorld
from tests.ui.screenshots import screenshot_path
from tests.ui.sessions import extra_account, running_session


def test_the_window_narrows_to_a_buddy_list_and_widens_for_a_conversation(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path
) -> None:
    w = gui_world
    with (
        extra_account(w, w.carol, "carol-pw", Sphere.PERSONAL) as carol,
        extra_account(w, "nobody@fake.test", "wrong", Sphere.WORK),
        running_session(w, qtbot) as s,
    ):
        window = s.window
        strip = window.accounts_strip
        qtbot.waitUntil(lambda: "connected" in strip.state_text(carol), timeout=10_000)
        qtbot.waitUntil(lambda: any(p.best.handle == w.bob for p in window.model.persons()), timeout=10_000)
        person = next(p for p in window.model.persons() if p.best.handle == w.bob)
        assert window.open_person(person.id) is not None  # a conversation is open: its widgets are wide
        window.resize(960, 620)
        qtbot.waitUntil(lambda: window.right.isVisible(), timeout=5000)

        assert window.minimumSizeHint().width() < 480, window.minimumSizeHint()  # was 700+ px
        window.resize(window.minimumSizeHint().width(), 620)  # the user drags the edge in...
        qtbot.waitUntil(lambda: not window.right.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: window.minimumSize().width() <= 260, timeout=5000)  # the list alone
        window.resize(260, 620)  # ... and on, down to a buddy list
        qtbot.waitUntil(lambda: window.width() == 260, timeout=5000)
        assert window.minimumSizeHint().width() <= 260
        assert window.tree.width() >= 200  # the list fills the window
        label = strip._label
        assert strip.width() <= 260 and label.sizeHint().width() <= label.width()  # nothing cut off
        assert "nobody@fake.test: failed" in label.text() and "Why?" in label.text()  # who is down, still
        window.grab().save(str(screenshot_path("slim-window.png", tmp_path)))

        index = window.proxy.index(0, 0)
        window.tree.activated.emit(index)  # the user opens a conversation from the slim list
        qtbot.waitUntil(lambda: window.right.isVisible() and window.width() >= 700, timeout=5000)

        window.resize(window.minimumSizeHint().width(), 620)  # slim again...
        qtbot.waitUntil(lambda: not window.right.isVisible(), timeout=5000)
        window.conversations.close_person(person.id)
        assert window.open_person(person.id) is not None  # ... and a conversation opened another way
        qtbot.waitUntil(lambda: window.right.isVisible() and window.width() >= 700, timeout=5000)
