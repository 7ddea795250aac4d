"""Merging persons while one of them has its tab open: the tab shows the merged contact's earlier
messages at once, and their unread count clears (the person's badge, the sphere's count, the total)
without closing and reopening the tab."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from aggregator.api import Sphere
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import TIMEOUT, open_tab, running, wait_connected
from ui.main_window import MainWindow


def _person(window: MainWindow, handle: str) -> int:
    return next(p.id for p in window.model.persons() if any(c.ref.handle == handle for c in p.contacts))


def _sphere_title(window: MainWindow) -> str:
    return str(window.model.sphere_index(Sphere.WORK).data())


def test_an_open_tab_shows_the_merged_contacts_history_and_its_unread_clears(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot, w.bob, w.carol)
        totals: list[int] = []
        window.feed.total_unread.connect(totals.append)
        w.on_server(w.server.deliver(w.carol, w.alice, "carol here"))
        tab = open_tab(window, qtbot, w.carol)
        qtbot.waitUntil(lambda: "carol here" in tab.view.toPlainText(), timeout=TIMEOUT)
        bob, carol = _person(window, w.bob), _person(window, w.carol)

        w.on_server(w.server.deliver(w.bob, w.alice, "bob on his other address"))
        qtbot.waitUntil(lambda: (window.model.person(bob) or tab.person).unread == 1, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: "1 unread" in _sphere_title(window), timeout=TIMEOUT)
        assert "bob on his other address" not in tab.view.toPlainText()

        merged: list[object] = []
        app = session.ctx.app
        session.ctx.bridge.run(lambda: app.merge_persons(carol, bob), lambda r, e: merged.append(e or r))
        qtbot.waitUntil(lambda: merged == [carol], timeout=TIMEOUT)

        # The open tab, as it is: the merged contact's message is in it, and nothing is unread.
        qtbot.waitUntil(lambda: "bob on his other address" in tab.view.toPlainText(), timeout=TIMEOUT)
        assert "carol here" in tab.view.toPlainText()
        assert window.conversations.tab_of(carol) is tab
        qtbot.waitUntil(lambda: (window.model.person(carol) or tab.person).unread == 0, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: "unread" not in _sphere_title(window), timeout=TIMEOUT)
        assert totals[-1] == 0


def test_merging_across_spheres_moves_the_unread_count_to_the_other_sphere(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot, w.bob, w.carol)
        bob, carol = _person(window, w.bob), _person(window, w.carol)
        app, bridge = session.ctx.app, session.ctx.bridge
        done: list[object] = []
        bridge.run(lambda: app.move_person_to_sphere(bob, Sphere.PERSONAL), lambda r, e: done.append(e or r))
        qtbot.waitUntil(lambda: done == [bob], timeout=TIMEOUT)
        w.on_server(w.server.deliver(w.bob, w.alice, "personal hello"))
        qtbot.waitUntil(lambda: "1 unread" in str(window.model.sphere_index(Sphere.PERSONAL).data()), timeout=TIMEOUT)
        assert "unread" not in _sphere_title(window)

        # Bob's contact joins carol's person (Work) while no tab is open: its unread count goes along.
        bridge.run(lambda: app.merge_persons(carol, bob), lambda r, e: done.append(e or r))
        qtbot.waitUntil(lambda: "1 unread" in _sphere_title(window), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: "unread" not in str(window.model.sphere_index(Sphere.PERSONAL).data()), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: (window.model.person(carol) or window.model.persons()[0]).unread == 1, timeout=TIMEOUT)


def test_the_tab_of_a_person_merged_away_becomes_the_merged_persons_tab(gui_world: GuiWorld, qtbot: QtBot) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot, w.bob, w.carol)
        w.on_server(w.server.deliver(w.carol, w.alice, "carol here"))
        w.on_server(w.server.deliver(w.bob, w.alice, "bob here"))
        tab = open_tab(window, qtbot, w.bob)
        qtbot.waitUntil(lambda: "bob here" in tab.view.toPlainText(), timeout=TIMEOUT)
        bob, carol = _person(window, w.bob), _person(window, w.carol)

        done: list[object] = []
        app = session.ctx.app
        session.ctx.bridge.run(lambda: app.merge_persons(carol, bob), lambda r, e: done.append(e or r))
        qtbot.waitUntil(lambda: window.conversations.tab_of(carol) is not None, timeout=TIMEOUT)
        merged = window.conversations.tab_of(carol)
        assert merged is not None and window.conversations.currentWidget() is merged
        assert window.conversations.tab_of(bob) is None and len(window.conversations.tabs()) == 1
        qtbot.waitUntil(lambda: "bob here" in merged.view.toPlainText(), timeout=TIMEOUT)
        assert "carol here" in merged.view.toPlainText()
