"""The whole window on the fake protocol: bob writes, the message shows, the reply goes out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.api import MessageState, PresenceKind
from aggregator.archive.records import Direction
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session
from ui.conversation import ConversationTab


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.window.save_state()
        s.shutdown()


def test_message_from_bob_shows_and_the_reply_goes_out(gui_world: GuiWorld, session: Session, qtbot: QtBot) -> None:
    window = session.window
    w = gui_world
    qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(w.account_id), timeout=10_000)
    qtbot.waitUntil(lambda: any(p.best.handle == w.bob for p in window.model.persons()), timeout=10_000)
    w.on_server(w.server.set_presence(w.bob, PresenceKind.AWAY, "in a meeting"))
    bob = next(p for p in window.model.persons() if p.best.handle == w.bob)
    qtbot.waitUntil(lambda: window.model.person(bob.id).status == "in a meeting", timeout=5000)  # type: ignore[union-attr]

    evil = "hi <b>bold</b> <script>alert(1)</script> see https://example.org/a?b=1&c=2."
    w.on_server(w.server.deliver(w.bob, w.alice, evil))
    qtbot.waitUntil(lambda: (window.model.person(bob.id) or bob).unread == 1, timeout=5000)

    # Filter by address, Enter opens the first match.
    QTest.keyClicks(window.filter, w.bob.split("@")[0])
    QTest.keyClick(window.filter, Qt.Key.Key_Return)
    tab = window.conversations.currentWidget()
    assert isinstance(tab, ConversationTab)
    assert tab.person.id == bob.id
    qtbot.waitUntil(lambda: len(tab.model.messages) == 1, timeout=5000)
    assert tab.model.messages[0].body == evil
    html = tab.view.toHtml()
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html
    plain = tab.view.toPlainText()
    assert "hi <b>bold</b> <script>alert(1)</script>" in plain
    qtbot.waitUntil(lambda: (window.model.person(bob.id) or bob).unread == 0, timeout=5000)

    # Reply: typed, Enter sends it on the account shown.
    assert tab.reply_target() is not None and tab.reply_target().handle == w.bob  # type: ignore[union-attr]
    QTest.keyClicks(tab.input, "hello <bob> & friends")
    QTest.keyClick(tab.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(m.body == "hello <bob> & friends" for m in w.server.received(w.alice)), timeout=5000)
    qtbot.waitUntil(
        lambda: any(m.direction is Direction.OUT and m.state is MessageState.SENT for m in tab.model.messages),
        timeout=5000,
    )
    assert tab.input.toPlainText() == ""
    assert "hello <bob> & friends" in tab.view.toPlainText()


def test_geometry_is_remembered(gui_world: GuiWorld, qtbot: QtBot) -> None:
    registry = ProtocolRegistry.discover()
    s = start_session(gui_world.paths, registry, core_factory=fast_core)
    s.window.resize(777, 555)
    s.window.show()
    qtbot.waitExposed(s.window)
    s.window.close()
    s.shutdown()
    s2 = start_session(gui_world.paths, registry, core_factory=fast_core)
    try:
        assert s2.window.size().width() == 777
    finally:
        s2.window.close()
        s2.shutdown()
