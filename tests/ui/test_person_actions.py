"""Persons in the desktop client: the buddy list's context menu, F2, drag and drop, policy refusals.

The fake account (Work sphere) has bob and carol in its roster: two persons to merge, split, rename
and move. Every assertion is on what the tree (or a dialog) shows after the core's events came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QAbstractItemModelTester, QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from aggregator.api import Sphere
from aggregator.app.rows import PersonRow
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import engine_round_trip, on_engine
from ui.app import Session, start_session
from ui.conversation import ConversationTab
from ui.main_window import MainWindow
from ui.merge_dialog import MergeChooser
from ui.models.roster_model import PERSON_ID_ROLE, PERSON_MIME


def tree_lines(window: MainWindow, parent: QModelIndex | None = None, depth: int = 0) -> list[str]:
    """The buddy list as the tree shows it (every row, indented by level)."""
    parent = parent or QModelIndex()
    proxy = window.proxy
    lines = []
    for row in range(proxy.rowCount(parent)):
        index = proxy.index(row, 0, parent)
        lines.append("  " * depth + str(index.data(Qt.ItemDataRole.DisplayRole)))
        lines += tree_lines(window, index, depth + 1)
    return lines


def person_of(window: MainWindow, handle: str) -> PersonRow:
    return next(p for p in window.model.persons() if any(c.ref.handle == handle for c in p.contacts))


def tree_index(window: MainWindow, person_id: int) -> QModelIndex:
    return window.proxy.mapFromSource(window.model.person_index(person_id))


def menu_texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def trigger(menu: QMenu, text: str) -> None:
    action = next(a for a in menu.actions() if a.text() == text)
    assert action.isEnabled(), text
    action.trigger()


def shown_menu(window: MainWindow) -> QMenu | None:
    return window.person_actions.menu


def right_click(window: MainWindow, index: QModelIndex) -> QMenu:
    """What a right click on the row does: Qt turns it into a context menu event on the viewport."""
    viewport = window.tree.viewport()
    pos = window.tree.visualRect(index).center()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos)))
    menu = window.person_actions.menu
    assert menu is not None and menu.isVisible()
    return menu


def drop_on(window: MainWindow, index: QModelIndex, data: QMimeData) -> bool:
    """What the tree gets when a dragged row is let go over ``index``; whether it took the drop."""
    viewport = window.tree.viewport()
    pos = QPointF(window.tree.visualRect(index).center())
    move, left = Qt.DropAction.MoveAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), move, data, left, none)
    QApplication.sendEvent(viewport, enter)
    over = QDragMoveEvent(pos.toPoint(), move, data, left, none)
    QApplication.sendEvent(viewport, over)
    if not over.isAccepted():
        return False
    drop = QDropEvent(pos, move, data, left, none)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()


def start(gui_world: GuiWorld, qtbot: QtBot) -> Session:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    w = gui_world
    qtbot.waitUntil(lambda: "connected" in s.window.accounts_strip.state_text(w.account_id), timeout=10_000)

    def listed() -> bool:
        handles = {c.ref.handle for p in s.window.model.persons() for c in p.contacts}
        return {w.bob, w.carol} <= handles

    qtbot.waitUntil(listed)
    return s


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start(gui_world, qtbot)
    try:
        yield s
    finally:
        s.shutdown()


@pytest.fixture
def strict_session(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    """The organisation's policy keeps work and personal contacts apart."""
    policy = tmp_path / "policy.toml"
    policy.write_text("[rules]\nmerge_across_spheres = false\n", encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))
    s = start(gui_world, qtbot)
    try:
        yield s
    finally:
        s.shutdown()


def test_the_menu_opens_by_right_click_and_by_keyboard(gui_world: GuiWorld, session: Session, qtbot: QtBot) -> None:
    window = session.window
    bob = person_of(window, gui_world.bob)
    menu = right_click(window, tree_index(window, bob.id))
    assert menu_texts(menu) == [
        "&Open conversation",
        "&Rename…",
        "Move to &Personal",
        "Move to &group…",
        "&Merge into…",
        # bob has one contact: its own entries (ui.contact_dialog)
        "Rename &contact…",
        "Remove from contacts…",
        "&Block…",
        "Add &contact…",
    ]
    assert window.tree.currentIndex().data(PERSON_ID_ROLE) == bob.id
    menu.close()

    # The Menu key and Shift+F10 open it for the current row.
    window.activateWindow()
    window.tree.setFocus()
    qtbot.waitUntil(window.tree.hasFocus)
    for key, modifier in (
        (Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier),
    ):
        before = window.person_actions.menu
        QTest.keyClick(window.tree, key, modifier)
        shown = shown_menu(window)
        assert shown is not None and shown is not before and shown.isVisible()
        assert "&Rename…" in menu_texts(shown)
        shown.close()

    # Open conversation from the menu.
    trigger(right_click(window, tree_index(window, bob.id)), "&Open conversation")
    tab = window.conversations.currentWidget()
    assert isinstance(tab, ConversationTab) and tab.person.id == bob.id


def test_rename_with_f2_and_move_between_spheres_and_groups(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    window = session.window
    bob = person_of(window, gui_world.bob)
    window.tree.setCurrentIndex(tree_index(window, bob.id))
    window.activateWindow()
    window.tree.setFocus()
    qtbot.waitUntil(window.tree.hasFocus)
    QTest.keyClick(window.tree, Qt.Key.Key_F2)
    dialog = window.person_actions.dialog
    assert isinstance(dialog, QInputDialog) and dialog.isVisible()
    assert dialog.textValue() == bob.name
    dialog.setTextValue("Bob <the builder>")
    dialog.accept()
    qtbot.waitUntil(lambda: "  Bob <the builder>" in tree_lines(window))

    # Move to Personal: the row leaves Work and shows under Personal.
    trigger(right_click(window, tree_index(window, bob.id)), "Move to &Personal")
    qtbot.waitUntil(lambda: tree_lines(window)[-2:] == ["  Bob <the builder>", f"    {gui_world.bob}"])
    assert tree_lines(window)[-3] == "Personal  (0/1)"

    # Move to a (new) group: typed in the dialog.
    trigger(right_click(window, tree_index(window, bob.id)), "Move to &group…")
    dialog = window.person_actions.dialog
    assert isinstance(dialog, QInputDialog)
    dialog.setTextValue("Friends")
    dialog.accept()
    qtbot.waitUntil(lambda: tree_lines(window)[-4:-2] == ["Personal  (0/1)", "  Friends"])
    assert tree_lines(window)[-2] == "    Bob <the builder>"

    # The menu now offers to take it out of that group.
    menu = right_click(window, tree_index(window, bob.id))
    assert "Move to &Work" in menu_texts(menu)
    trigger(menu, "Remove from group “Friends”")
    qtbot.waitUntil(lambda: "  Friends" not in tree_lines(window))
    assert tree_lines(window)[-3:] == ["Personal  (0/1)", "  Bob <the builder>", f"    {gui_world.bob}"]


def test_merge_into_a_chosen_person_then_split_a_contact_off(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    window, w = session.window, gui_world
    bob, carol = person_of(window, w.bob), person_of(window, w.carol)
    trigger(right_click(window, tree_index(window, bob.id)), "&Merge into…")
    chooser = window.person_actions.dialog
    assert isinstance(chooser, MergeChooser) and chooser.isVisible()
    QAbstractItemModelTester(chooser.proxy, QAbstractItemModelTester.FailureReportingMode.Fatal)
    listed = [chooser.proxy.index(r, 0).data() for r in range(chooser.proxy.rowCount())]
    assert any(carol.name in t for t in listed) and not any(t.startswith(bob.name) for t in listed)
    QTest.keyClicks(chooser.filter, w.carol.split("@")[0][:5])
    assert chooser.proxy.rowCount() == 1
    assert chooser.selected() == carol.id
    assert bob.name in chooser.detail.text() and w.carol in chooser.detail.text()
    QTest.keyClick(chooser.filter, Qt.Key.Key_Return)

    # Bob is gone from the tree; carol now has both contacts.
    qtbot.waitUntil(lambda: window.proxy.rowCount(tree_index(window, carol.id)) == 2)
    assert f"  {bob.name}" not in tree_lines(window)
    carol_index = tree_index(window, carol.id)
    assert {window.proxy.index(r, 0, carol_index).data() for r in range(2)} == {w.bob, w.carol}

    # Split bob's contact off again, from its row inside the expanded person.
    window.tree.expand(carol_index)
    bob_row = next(
        window.proxy.index(r, 0, carol_index) for r in range(2) if window.proxy.index(r, 0, carol_index).data() == w.bob
    )
    menu = right_click(window, bob_row)
    assert menu_texts(menu)[:2] == ["&Open conversation", "&Split into its own person"]
    trigger(menu, "&Split into its own person")
    qtbot.waitUntil(lambda: window.proxy.rowCount(tree_index(window, carol.id)) == 1)
    assert any(p.best.handle == w.bob and len(p.contacts) == 1 for p in window.model.persons())
    assert sum(1 for line in tree_lines(window) if line.strip() == w.bob) == 1


def test_dropping_a_person_on_another_merges_after_confirming(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    window, w = session.window, gui_world
    bob, carol = person_of(window, w.bob), person_of(window, w.carol)
    data = window.proxy.mimeData([tree_index(window, bob.id)])
    assert data.hasFormat(PERSON_MIME)

    # First cancelled: nothing changes.
    assert window.proxy.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, tree_index(window, carol.id))
    box = window.person_actions.dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert bob.name in box.text() and carol.name in box.text()
    assert w.bob in box.informativeText() and w.carol in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    engine_round_trip(session, qtbot)  # a merge would have run on the engine, and its events arrived, by now
    assert f"  {bob.name}" in tree_lines(window) and window.model.person(bob.id) is not None

    # Then confirmed.
    assert window.proxy.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, tree_index(window, carol.id))
    box = window.person_actions.dialog
    assert isinstance(box, QMessageBox)
    merge = next(b for b in box.buttons() if b.text() == "Merge")
    merge.click()
    qtbot.waitUntil(lambda: window.proxy.rowCount(tree_index(window, carol.id)) == 2)
    assert window.model.person(bob.id) is None
    assert f"  {bob.name}" not in tree_lines(window)


def test_dropping_a_person_on_a_header_moves_it_there(gui_world: GuiWorld, session: Session, qtbot: QtBot) -> None:
    window, w = session.window, gui_world
    bob = person_of(window, w.bob)
    personal = window.proxy.mapFromSource(window.model.sphere_index(Sphere.PERSONAL))
    data = window.proxy.mimeData([tree_index(window, bob.id)])
    assert not drop_on(window, tree_index(window, bob.id), data)  # onto itself: refused
    assert drop_on(window, personal, data)  # as the tree view gets it
    qtbot.waitUntil(lambda: tree_lines(window)[-3:] == ["Personal  (0/1)", f"  {bob.name}", f"    {w.bob}"])

    # Put carol in a group, then drop bob on that group's header.
    carol = person_of(window, w.carol)
    window.person_actions.move_to_group(carol.id, "Team")
    qtbot.waitUntil(lambda: "  Team" in tree_lines(window))
    work = window.proxy.mapFromSource(window.model.sphere_index(Sphere.WORK))
    team = next(i for r in range(window.proxy.rowCount(work)) if (i := window.proxy.index(r, 0, work)).data() == "Team")
    assert drop_on(window, team, window.proxy.mimeData([tree_index(window, bob.id)]))
    qtbot.waitUntil(lambda: "Personal  (0/0)" in tree_lines(window))
    lines = tree_lines(window)
    team_at = lines.index("  Team")
    assert sorted(lines[team_at + 1 : team_at + 5 : 2]) == sorted([f"    {bob.name}", f"    {carol.name}"])


def test_a_merge_the_policy_forbids_shows_the_reason_and_the_rule(
    gui_world: GuiWorld, strict_session: Session, qtbot: QtBot
) -> None:
    window, w = strict_session.window, gui_world
    bob, carol = person_of(window, w.bob), person_of(window, w.carol)
    trigger(right_click(window, tree_index(window, bob.id)), "Move to &Personal")
    qtbot.waitUntil(lambda: "Personal  (0/1)" in tree_lines(window))

    assert window.proxy.dropMimeData(
        window.proxy.mimeData([tree_index(window, carol.id)]),
        Qt.DropAction.MoveAction,
        -1,
        -1,
        tree_index(window, bob.id),
    )
    box = window.person_actions.dialog
    assert isinstance(box, QMessageBox)
    next(b for b in box.buttons() if b.text() == "Merge").click()
    qtbot.waitUntil(lambda: window.person_actions.refusal is not None and window.person_actions.refusal.isVisible())
    refusal = window.person_actions.refusal
    assert refusal is not None
    assert "Merge was refused" in refusal.text()
    assert "keeps work and personal contacts apart" in refusal.text()
    assert "merge_across_spheres" in refusal.informativeText()
    # Nothing changed in the buddy list.
    assert window.model.person(carol.id) is not None and f"  {carol.name}" in tree_lines(window)
    assert window.proxy.rowCount(tree_index(window, bob.id)) == 1


def test_a_person_in_two_groups_shows_under_both_and_leaves_one(
    gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    window = session.window
    bob = person_of(window, gui_world.bob)
    on_engine(session, lambda core: core.roster.directory.group(bob.id, "Friends", "Climbing"))

    def under(group: str) -> bool:
        lines = tree_lines(window)
        return f"  {group}" in lines and lines[lines.index(f"  {group}") + 1] == f"    {bob.name}"

    qtbot.waitUntil(lambda: under("Friends") and under("Climbing"))
    assert tree_lines(window)[0] == "Work  (0/2)"  # bob counts once
    climbing = window.model.person_indexes(bob.id)[1]
    assert climbing.parent().data() == "Climbing"

    # The context menu of the node under Climbing: the same person, with both groups to leave.
    menu = right_click(window, window.proxy.mapFromSource(climbing))
    assert {"Remove from group “Friends”", "Remove from group “Climbing”"} <= set(menu_texts(menu))
    trigger(menu, "Remove from group “Climbing”")
    qtbot.waitUntil(lambda: "  Climbing" not in tree_lines(window))
    assert under("Friends") and tree_lines(window).count(f"    {bob.name}") == 1
