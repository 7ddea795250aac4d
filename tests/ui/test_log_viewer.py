"""The log viewer on a real profile (fake protocol): filters, results as you type, the context pane,
the keyboard, and opening the conversation at a hit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QAbstractItemModelTester, QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageState
from aggregator.archive.records import Direction
from aggregator.events import MessageStored
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import core_of, engine_round_trip
from ui import log_viewer
from ui.app import Session, start_session
from ui.conversation import ConversationTab
from ui.log_viewer import NO_RESULTS, LogViewer
from ui.models.search_results_model import CONVERSATION, MESSAGE, SNIPPET_HTML_ROLE
from ui.timeline_text import day_label

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=400)


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.shutdown()


def store(
    session: Session, account_id: str, handle: str, items: list[tuple[str, datetime]], *, room: bool = False
) -> list[int]:
    """Messages as the pipeline stores and announces them (on the engine thread)."""
    core = core_of(session)

    async def go() -> list[int]:
        key = ConversationKey.room(account_id, handle) if room else ConversationKey.direct(account_id, handle)
        conv = core.archive.conversation_id(key)
        assert conv is not None
        ids = []
        for body, at in items:
            m = core.archive.insert_message(
                conversation_id=conv,
                account_id=account_id,
                direction=Direction.IN,
                sender="dave@fake.test" if room else handle,
                body=body,
                sent_at=at,
                state=MessageState.RECEIVED,
            )
            assert m is not None
            core.bus.publish(MessageStored(message=m))
            ids.append(m.id)
        return ids

    return session.engine.call(go(), timeout=10)


def open_viewer(session: Session, qtbot: QtBot, *handles: str) -> LogViewer:
    """Once the buddy list shows persons for ``handles``: the log viewer, its filters filled."""
    window = session.window

    def listed() -> bool:
        return {c.ref.handle for p in window.model.persons() for c in p.contacts} >= set(handles)

    qtbot.waitUntil(listed, timeout=10_000)
    window.search_action.trigger()
    viewer = session.windows.log_viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.filter_bar.person.count() == len(window.model.persons()) + 1, timeout=5000)
    return viewer


def search(viewer: LogViewer, qtbot: QtBot, text: str) -> None:
    """Type ``text`` and press Enter (no wait for the debounce)."""
    viewer.query.setText(text)
    QTest.keyClick(viewer.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: viewer.status.text() not in ("Searching…", " "), timeout=5000)


def conversations(viewer: LogViewer) -> list[str]:
    return [r.conversation for r in viewer.model.rows]


def test_filters_combine_with_the_typed_query_and_errors_show_inline(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    w = gui_world
    store(session, w.account_id, w.bob, [("release <b>notes</b> ready", OLD), ("the release is out", NOW)])
    store(session, w.account_id, w.carol, [("release party tonight", NOW - timedelta(hours=1))])
    store(session, w.account_id, "#team", [("release train leaves", NOW - timedelta(hours=2))], room=True)
    viewer = open_viewer(session, qtbot, w.bob, w.carol)
    QAbstractItemModelTester(viewer.model, QAbstractItemModelTester.FailureReportingMode.Fatal)

    search(viewer, qtbot, "release")
    assert viewer.status.text() == "4 results"
    bob_name = viewer.model.rows[0].conversation
    assert conversations(viewer) == [bob_name, conversations(viewer)[1], "#team", bob_name]
    oldest = viewer.model.index(3, MESSAGE)
    markup = oldest.data(SNIPPET_HTML_ROLE)
    assert "<b>release</b>" in markup and "&lt;b&gt;notes&lt;/b&gt;" in markup and "<b>notes</b>" not in markup
    assert viewer.model.index(2, CONVERSATION).data() == "#team"

    # The person filter: by choosing from the list (the completer offers the buddy list's names).
    viewer.filter_bar.choose_person(viewer.model.rows[0].person_id)
    qtbot.waitUntil(lambda: conversations(viewer) == [bob_name, bob_name], timeout=5000)
    assert viewer.status.text() == "2 results"

    # The days: only the last week.
    viewer.filter_bar.use_from.setChecked(True)
    viewer.filter_bar.from_date.setDate(QDate.currentDate().addDays(-7))
    qtbot.waitUntil(lambda: viewer.status.text() == "1 result", timeout=5000)
    assert viewer.model.rows[0].message.body == "the release is out"

    # The sphere: the fake account is a work account.
    viewer.filter_bar.sphere.setCurrentIndex(viewer.filter_bar.sphere.findText("Personal"))
    qtbot.waitUntil(lambda: viewer.status.text() == NO_RESULTS, timeout=5000)
    viewer.filter_bar.sphere.setCurrentIndex(viewer.filter_bar.sphere.findText("Work"))
    qtbot.waitUntil(lambda: viewer.status.text() == "1 result", timeout=5000)

    # Filters alone (no words) list the messages; the account filter.
    viewer.filter_bar.use_from.setChecked(False)
    viewer.query.clear()
    qtbot.waitUntil(lambda: viewer.status.text() == "2 results", timeout=5000)
    viewer.filter_bar.choose_person(None)
    viewer.filter_bar.account.setCurrentIndex(viewer.filter_bar.account.findData(w.account_id))
    qtbot.waitUntil(lambda: viewer.status.text() == "4 results", timeout=5000)

    # Part of a name: a hint (the results stay); a name that is nobody, and a malformed query: the
    # reason in the status line, nothing else.
    viewer.filter_bar.person.setEditText(bob_name[:-1])
    qtbot.waitUntil(lambda: viewer.status.text().startswith("choose a person: "), timeout=5000)
    assert viewer.model.rowCount() == 4 and viewer.status.styleSheet() == ""
    viewer.filter_bar.person.setEditText("nobody at all")
    qtbot.waitUntil(lambda: "no person is called 'nobody at all'" in viewer.status.text(), timeout=5000)
    assert viewer.model.rowCount() == 0
    viewer.filter_bar.person.setEditText("")
    search(viewer, qtbot, "release")
    viewer.results.setCurrentIndex(viewer.model.index(0, 0))
    qtbot.waitUntil(lambda: viewer.context_view.shown is not None, timeout=5000)
    search(viewer, qtbot, "release before:2024-13-45")
    assert viewer.status.text() == "before:2024-13-45: no such date"
    assert viewer.context_view.shown is None and viewer.context_view.toPlainText() == ""
    assert "c00000" in viewer.status.styleSheet()
    assert viewer.model.rowCount() == 0
    search(viewer, qtbot, "release")
    assert viewer.status.text() == "4 results" and viewer.status.styleSheet() == ""

    # A new person while the viewer is open joins the person filter.
    before = viewer.filter_bar.person.count()
    store(session, w.account_id, "erin@fake.test", [("hello", NOW)])
    qtbot.waitUntil(lambda: viewer.filter_bar.person.count() == before + 1, timeout=5000)


def test_a_stale_answer_never_replaces_a_newer_one_and_the_window_never_waits(
    gui_world: GuiWorld, session: Session, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = gui_world
    store(session, w.account_id, w.bob, [("alpha one", NOW), ("beta two", NOW)])
    viewer = open_viewer(session, qtbot, w.bob)
    real = log_viewer.run_search

    def slow(core: object, text: str, filters: object, limit: int) -> object:
        if "alpha" in text:
            time.sleep(0.6)  # on the engine thread
        return real(core, text, filters, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(log_viewer, "run_search", slow)
    shown: list[list[str]] = []
    viewer.model.modelReset.connect(lambda: shown.append([r.message.body for r in viewer.model.rows]))

    viewer.query.setText("alpha")
    started = time.monotonic()
    viewer.run_query()
    assert time.monotonic() - started < 0.2  # returned at once
    assert viewer.status.text() == "Searching…"
    viewer.query.setText("beta")
    viewer.run_query()
    qtbot.waitUntil(lambda: viewer.status.text() == "1 result", timeout=5000)
    engine_round_trip(session, qtbot)  # the stale answer, had it come late, would have arrived by now
    assert [r.message.body for r in viewer.model.rows] == ["beta two"]
    assert ["alpha one"] not in shown


def test_keyboard_context_pane_and_opening_the_conversation_at_a_hit(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    w = gui_world
    start = NOW - timedelta(days=3)
    ids = store(session, w.account_id, w.bob, [(f"message {i}", start + timedelta(minutes=i)) for i in range(120)])
    store(session, w.account_id, w.bob, [("the needle <i>here</i>", start + timedelta(minutes=30, seconds=30))])
    room = store(session, w.account_id, "#team", [("a needle in the room", NOW)], room=True)
    assert session.window.search_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    viewer = open_viewer(session, qtbot, w.bob)
    qtbot.waitExposed(viewer)
    assert viewer.query.hasFocus()

    for widget in viewer.findChildren(QWidget):
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus and widget.isVisibleTo(viewer):
            assert widget.accessibleName(), f"{type(widget).__name__} has no accessible name"

    QTest.keyClicks(viewer.query, "needle")
    qtbot.waitUntil(lambda: viewer.status.text() == "2 results", timeout=5000)

    # Down: into the results; the first (the room) shows its context, it cannot open a tab.
    QTest.keyClick(viewer.query, Qt.Key.Key_Down)
    assert viewer.results.hasFocus() and viewer.results.currentIndex().row() == 0
    qtbot.waitUntil(lambda: viewer.context_view.shown is not None, timeout=5000)
    assert viewer.context_view.shown is not None and viewer.context_view.shown.message.id == room[0]
    assert not viewer.open_button.isEnabled()
    assert viewer.context_view.toPlainText().splitlines()[-2:][0] == "\u2014 Today \u2014"
    assert viewer.context_view.toPlainText().endswith("dave@fake.test: a needle in the room")  # no nick known
    QTest.keyClick(viewer.results, Qt.Key.Key_Return)
    assert "#team is a room" in viewer.status.text()
    viewer.status.setText(" ")
    rect = viewer.results.visualRect(viewer.model.index(0, 0))
    QTest.mouseClick(viewer.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.mouseDClick(viewer.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "#team is a room" in viewer.status.text()  # a double-click activates as Enter does

    # The second: bob's, with five messages before and after it in the pane, the hit marked.
    QTest.keyClick(viewer.results, Qt.Key.Key_Down)

    def needle_shown() -> bool:
        shown = viewer.context_view.shown
        return shown is not None and shown.message.body.startswith("the needle")

    qtbot.waitUntil(needle_shown, timeout=5000)
    shown = viewer.context_view.shown
    assert shown is not None
    assert [m.body for m in shown.before] == [f"message {i}" for i in range(26, 31)]
    assert [m.body for m in shown.after] == [f"message {i}" for i in range(31, 36)]
    pane = viewer.context_view.toHtml()
    assert "&lt;i&gt;here&lt;/i&gt;" in pane and "<i>here</i>" not in pane
    assert viewer.open_button.isEnabled()

    # Enter opens bob's tab at the hit: a window in the middle of the timeline.
    hit = shown.message.id
    QTest.keyClick(viewer.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(session.window.conversations.currentWidget(), ConversationTab), timeout=5000)
    tab = session.window.conversations.currentWidget()
    assert isinstance(tab, ConversationTab)
    QAbstractItemModelTester(tab.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    qtbot.waitUntil(lambda: tab.model.row_of(hit) is not None and not tab.model.at_newest, timeout=5000)
    assert tab.view.highlighted_id == hit
    assert tab.view.textCursor().selectedText().endswith("the needle <i>here</i>")
    assert tab.timeline is not None and tab.timeline.latest_button.isVisibleTo(tab)
    # Placing the window loads nothing more by itself: a load it asked for (also from the layout's events,
    # handled while waiting for the first round trip) would have arrived after two round trips.
    engine_round_trip(session, qtbot)
    engine_round_trip(session, qtbot)
    bodies = [m.body for m in tab.model.messages]
    assert bodies[0] == "message 6" and bodies[-1] == "message 55"  # 25 before, 25 after

    # A live message does not land in the middle; scrolling down loads newer pages up to the end.
    store(session, w.account_id, w.bob, [("live one", NOW + timedelta(seconds=1))])
    engine_round_trip(session, qtbot)  # its MessageStored event has been delivered to the tab
    engine_round_trip(session, qtbot)  # and any load it triggered has come back
    assert "live one" not in [m.body for m in tab.model.messages]
    bar = tab.view.verticalScrollBar()
    for _ in range(10):
        if tab.model.at_newest:
            break
        rows = tab.model.rowCount()
        bar.setValue(bar.maximum())

        def grew(rows: int = rows) -> bool:
            return tab.model.rowCount() > rows or tab.model.at_newest

        qtbot.waitUntil(grew, timeout=5000)
    assert tab.model.at_newest and tab.model.messages[-1].body == "live one"
    assert not tab.timeline.latest_button.isVisibleTo(tab)
    assert tab.model.messages[0].body == "message 6"  # kept what was read

    # Again at the hit, then "Jump to latest".
    tab.show_message(ids[10])
    qtbot.waitUntil(lambda: tab.view.highlighted_id == ids[10], timeout=5000)
    QTest.mouseClick(tab.timeline.latest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.at_newest and tab.view.highlighted_id is None, timeout=5000)
    assert tab.model.messages[-1].body == "live one"

    # Escape closes the log viewer; Ctrl+F (the menu's Find) brings it back with the box focused.
    viewer.activateWindow()
    QTest.keyClick(viewer.results, Qt.Key.Key_Escape)
    assert not viewer.isVisible()
    session.window.search_action.trigger()
    assert viewer.isVisible() and viewer.query.selectedText() == "needle"
    qtbot.waitUntil(viewer.isActiveWindow, timeout=5000)
    viewer.results.setFocus()
    QTest.keyClick(viewer.results, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert viewer.query.hasFocus()


def test_the_context_pane_names_senders_and_days_as_the_conversation_does(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    w = gui_world
    earlier = NOW - timedelta(days=2)
    store(session, w.account_id, w.bob, [("an older word", earlier), ("the needle today", NOW)])
    viewer = open_viewer(session, qtbot, w.bob)
    search(viewer, qtbot, "needle")
    person_id = viewer.model.rows[0].person_id
    assert person_id is not None
    core = core_of(session)

    async def rename() -> None:
        core.roster.directory.rename(person_id, "<b>Bob</b> & co")

    session.engine.call(rename(), timeout=10)
    search(viewer, qtbot, "needle today")
    # The result names its sender as the conversation does (escaped in the snippet's markup).
    assert viewer.model.index(0, MESSAGE).data() == "<b>Bob</b> & co: the needle today"
    assert viewer.model.index(0, MESSAGE).data(SNIPPET_HTML_ROLE).startswith("&lt;b&gt;Bob&lt;/b&gt; &amp; co: ")
    viewer.results.setCurrentIndex(viewer.model.index(0, 0))
    qtbot.waitUntil(lambda: viewer.context_view.shown is not None, timeout=5000)

    pane = viewer.context_view
    lines = pane.toPlainText().splitlines()
    day = earlier.astimezone().date()
    assert lines[0] == f"\u2014 {day_label(day, date.today())} \u2014"
    assert lines[-2] == "\u2014 Today \u2014"
    assert lines[-1].endswith("<b>Bob</b> & co: the needle today")  # the person's name, as text
    assert f"{w.bob}:" not in pane.toPlainText()
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in pane.toHtml() and "<b>Bob</b>" not in pane.toHtml()

    # The hit's tooltip: the full date, the name with the address, the account.
    block = pane.document().lastBlock()
    top = pane.document().documentLayout().blockBoundingRect(block).top() - pane.verticalScrollBar().value()
    tip = pane.tooltip_at(QPoint(20, int(top) + 3))
    assert f"From <b>Bob</b> & co ({w.bob})" in tip.splitlines()
    assert tip.splitlines()[-1].startswith("Account: ")
