"""The buddy-list filter while the list changes under it, and how much work a keystroke costs."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QTreeView
from pytestqt.qtbot import QtBot

from aggregator.api import Sphere
from tests.ui.rowfactory import person
from ui.models.roster_filter import RosterFilter
from ui.models.roster_model import RosterModel

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal


def _shown(proxy: RosterFilter, parent: QModelIndex | None = None) -> list[str]:
    parent = parent or QModelIndex()
    out = []
    for row in range(proxy.rowCount(parent)):
        index = proxy.index(row, 0, parent)
        out.append(str(index.data(Qt.ItemDataRole.DisplayRole)).split("  ")[0])
        out += ["  " + n for n in _shown(proxy, index)]
    return out


def test_a_matching_person_appearing_under_a_hidden_sphere_or_group_shows_it(qtbot: QtBot) -> None:
    model = RosterModel()
    proxy = RosterFilter(model)
    QAbstractItemModelTester(proxy, FAIL)
    model.set_persons([person(1, "Anna", sphere=Sphere.WORK), person(2, "Bob")])
    proxy.set_text("carol")
    assert _shown(proxy) == []
    model.upsert(person(3, "Carol", group="Friends"))  # a new group, in the hidden Personal sphere
    assert _shown(proxy) == ["Personal", "  Friends", "    Carol", "      carol3@fake.test"]
    model.upsert(person(1, "Anna Carolina", sphere=Sphere.WORK))  # renamed: now matches, Work shows
    assert _shown(proxy)[:2] == ["Work", "  Anna Carolina"]
    model.remove(3)  # the last match under Personal goes: so does the sphere
    assert _shown(proxy) == ["Work", "  Anna Carolina", "    anna1@fake.test"]
    proxy.set_text("")
    everyone = ["Work", "  Anna Carolina", "    anna1@fake.test", "Personal", "  Bob", "    bob2@fake.test"]
    assert _shown(proxy) == everyone


def test_a_keystroke_looks_at_each_person_once_and_never_at_their_contacts(qtbot: QtBot) -> None:
    calls: list[int] = []

    class Counting(RosterFilter):
        def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
            calls.append(source_row)
            return super().filterAcceptsRow(source_row, source_parent)

    model = RosterModel()
    proxy = Counting(model)
    QAbstractItemModelTester(proxy, FAIL)
    many = [person(i, f"Person {i}", handles=(f"p{i}@a.test", f"p{i}@b.test", f"p{i}@c.test")) for i in range(1, 201)]
    model.set_persons(many)
    for text in ("p", "pe", "person 1", "person 12", "person 123"):
        matching = sum(1 for p in many if text in p.name.casefold())
        calls.clear()
        proxy.set_text(text)
        shown = [proxy.rowCount(proxy.index(row, 0)) for row in range(proxy.rowCount())]  # what a tree maps
        assert shown == [matching]  # Personal only; Work has nobody
        # The 2 spheres and 200 persons (+ at most the matching persons' contacts): never the three
        # contacts of every hidden person, as recursive filtering did.
        assert len(calls) <= 2 + 200 + 3 * matching, text
    assert [n for n in _shown(proxy) if not n.startswith("    ")] == ["Personal", "  Person 123"]


def test_clearing_the_filter_shows_everyone_again_without_mapping_every_persons_contacts(qtbot: QtBot) -> None:
    """The relayout after a clear asks whether each of the 10,000 persons has children: answered from
    the person's node, not by building a mapping of its contacts (filterAcceptsRow per contact)."""
    calls: list[int] = []

    class Counting(RosterFilter):
        def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
            calls.append(source_row)
            return super().filterAcceptsRow(source_row, source_parent)

    model = RosterModel()
    proxy = Counting(model)
    QAbstractItemModelTester(proxy, FAIL)
    many = [person(i, f"Person {i}", handles=(f"p{i}@a.test", f"p{i}@b.test", f"p{i}@c.test")) for i in range(1, 201)]
    model.set_persons(many)
    tree = QTreeView()
    qtbot.addWidget(tree)
    tree.setModel(proxy)
    tree.setUniformRowHeights(True)
    tree.resize(300, 400)
    tree.show()
    tree.expandAll()  # spheres, persons: everything open, then the persons closed again
    tree.collapseAll()
    tree.expand(proxy.index(1, 0))  # Personal
    proxy.set_text("person 12")
    QApplication.processEvents()
    calls.clear()
    proxy.set_text("")
    QApplication.processEvents()  # the tree's relayout and paint
    personal = proxy.index(1, 0)  # (an index does not outlive a filter change)
    assert proxy.rowCount(personal) == 200
    assert len(calls) <= 2 + 200  # the spheres and the persons; never their 600 contacts
    first = proxy.index(0, 0, personal)
    assert proxy.hasChildren(first) and proxy.rowCount(first) == 3  # still expandable, contacts shown
    tree.expand(first)
    assert _shown(proxy, first) == ["p1@a.test", "p1@b.test", "p1@c.test"]
    contact = proxy.index(0, 0, first)
    assert not proxy.hasChildren(contact)
    for shown in (personal, first, contact, proxy.index(1, 0, personal)):  # what dragging and dropping see
        assert proxy.flags(shown) == model.flags(proxy.mapToSource(shown))
    assert proxy.flags(first) & Qt.ItemFlag.ItemIsDragEnabled
    assert not proxy.flags(personal) & Qt.ItemFlag.ItemIsDragEnabled
