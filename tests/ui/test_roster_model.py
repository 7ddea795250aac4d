"""The buddy-list model and its filter, under QAbstractItemModelTester."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from aggregator.api import PresenceKind, Sphere
from tests.ui.rowfactory import person, room
from ui.models.roster_filter import RosterFilter
from ui.models.roster_model import (
    KIND_ROLE,
    MEMBERS_ROLE,
    PERSON_ID_ROLE,
    PERSON_MIME,
    PROTOCOLS_ROLE,
    ROOM,
    ROOM_KEY_ROLE,
    STATUS_ROLE,
    UNREAD_ROLE,
    DropKind,
    DropRequest,
    RosterModel,
)

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal


def _names(model: RosterModel | RosterFilter, parent: QModelIndex | None = None) -> list[str]:
    parent = parent or QModelIndex()
    out = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        out.append(str(index.data(Qt.ItemDataRole.DisplayRole)))
        out += ["  " + n for n in _names(model, index)]
    return out


def test_tree_of_spheres_groups_persons_contacts(qtbot: QtBot) -> None:
    model = RosterModel()
    QAbstractItemModelTester(model, FAIL)
    model.set_persons(
        [
            person(1, "Zoe", sphere=Sphere.WORK, group="Team"),
            person(2, "Adam", sphere=Sphere.WORK),
            person(3, "Carol", handles=("carol@a.test", "carol@b.test")),
        ]
    )
    assert model.rowCount() == 2
    work = model.sphere_index(Sphere.WORK)
    assert model.rowCount(work) == 2  # the group "Team", then Adam
    assert model.index(0, 0, work).data() == "Team"
    carol = model.person_index(3)
    assert model.rowCount(carol) == 2
    assert carol.data(PERSON_ID_ROLE) == 3
    assert model.parent(model.index(0, 0, carol)) == carol


def test_a_large_list_in_any_order_comes_out_sorted_groups_first(qtbot: QtBot) -> None:
    model = RosterModel()
    QAbstractItemModelTester(model, FAIL)
    names = [f"Person {i:04d}" for i in range(300)]
    rows = [person(i + 1, n, group="Team" if i % 3 == 0 else "") for i, n in enumerate(names)]
    model.set_persons(reversed(rows))  # the reset sorts once at the end: the input order does not matter
    personal = model.sphere_index(Sphere.PERSONAL)
    shown = [model.index(r, 0, personal).data() for r in range(model.rowCount(personal))]
    assert shown == ["Team", *[n for i, n in enumerate(names) if i % 3]]
    team = model.index(0, 0, personal)
    assert [model.index(r, 0, team).data() for r in range(model.rowCount(team))] == names[::3]
    model.upsert(person(1000, "Person 0001b"))  # later inserts still land in order
    assert model.index(2, 0, personal).data() == "Person 0001b"


def test_incremental_changes_keep_the_model_consistent(qtbot: QtBot) -> None:
    model = RosterModel()
    proxy = RosterFilter(model)
    QAbstractItemModelTester(model, FAIL)
    QAbstractItemModelTester(proxy, FAIL)
    model.set_persons([person(1, "Bob"), person(2, "Dan", sphere=Sphere.WORK, group="Ops")])
    model.upsert(person(3, "Alice", group="Friends"))
    model.upsert(person(1, "Bob", presence=PresenceKind.AVAILABLE, status="at lunch"))
    merged = person(1, "Bob", presence=PresenceKind.AVAILABLE, handles=("bob@a.test", "bob@b.test"))
    model.upsert(merged)  # merged: a second contact
    model.upsert(person(2, "Dan", sphere=Sphere.PERSONAL))  # moved: out of Ops (removed), into Personal
    model.set_unread(1, 4)
    assert model.person_index(1).data(UNREAD_ROLE) == 4
    model.remove(3)  # Friends is empty now and goes
    model.set_sphere_unread(Sphere.PERSONAL, 4)
    assert _names(model) == [
        "Work  (0/0)",
        "Personal  (1/2)  · 4 unread",
        "  Bob",
        "    bob@a.test",
        "    bob@b.test",
        "  Dan",
        "    dan2@fake.test",
    ]


def test_filter_by_name_or_address(qtbot: QtBot) -> None:
    model = RosterModel()
    proxy = RosterFilter(model)
    QAbstractItemModelTester(proxy, FAIL)
    model.set_persons(
        [
            person(1, "Müller Anna", group="Team", sphere=Sphere.WORK),
            person(2, "Bob", handles=("robert@corp.test",)),
            person(3, "Carol"),
        ]
    )
    proxy.set_text("MÜLL")
    assert [n.strip() for n in _names(proxy)] == ["Work  (0/1)", "Team", "Müller Anna", "müller1@fake.test"]
    proxy.set_text("robert@")
    first = proxy.first_person()
    assert first.data() == "Bob"
    proxy.set_text("nobody")
    assert not proxy.first_person().isValid()
    proxy.set_text("")
    assert proxy.rowCount(proxy.mapFromSource(model.sphere_index(Sphere.PERSONAL))) == 2


def test_rooms_group_in_the_sphere_of_their_account(qtbot: QtBot) -> None:
    model = RosterModel()
    proxy = RosterFilter(model)
    QAbstractItemModelTester(model, FAIL)
    QAbstractItemModelTester(proxy, FAIL)
    model.set_rooms([room("team@rooms.test", sphere=Sphere.WORK, members=("Ali", "Carol"), topic="ship it")])
    model.set_persons([person(1, "Bob", sphere=Sphere.WORK, group="Rooms"), person(2, "Adam", sphere=Sphere.WORK)])
    # The persons' reset keeps the rooms; a roster group that happens to be called "Rooms" is another group.
    assert _names(model)[:7] == [
        "Work  (0/2)",
        "  Rooms  (1)",
        "    team",
        "  Rooms",
        "    Bob",
        "      bob1@fake.test",
        "  Adam",
    ]
    team = model.room_index(room("team@rooms.test").key)
    assert team.data(KIND_ROLE) == ROOM and team.data(MEMBERS_ROLE) == 2
    assert team.data(PROTOCOLS_ROLE) == "2 members" and team.data(STATUS_ROLE) == "ship it"
    assert team.data(ROOM_KEY_ROLE) == room("team@rooms.test").key
    assert "joined as me, 2 members" in team.data(Qt.ItemDataRole.AccessibleTextRole)

    model.upsert_room(room("dev@rooms.test", sphere=Sphere.PERSONAL, joined=False))
    model.upsert_room(room("team@rooms.test", sphere=Sphere.WORK, members=("Ali", "Carol", "Dan"), topic="ship it"))
    assert model.room_index(room("team@rooms.test").key).data(PROTOCOLS_ROLE) == "3 members"
    assert model.room_index(room("dev@rooms.test").key).data(PROTOCOLS_ROLE) == "not joined"
    model.upsert_room(room("dev@rooms.test", sphere=Sphere.WORK))  # its account moved to work
    assert [n.strip() for n in _names(model)[:4]] == ["Work  (0/2)", "Rooms  (2)", "dev", "team"]
    assert model.rowCount(model.sphere_index(Sphere.PERSONAL)) == 0

    proxy.set_text("ship")  # a room matches on its topic
    assert [n.strip() for n in _names(proxy)] == ["Work  (0/2)", "Rooms  (2)", "team"]
    assert not proxy.first_person().isValid()  # Enter opens persons only
    proxy.set_text("")

    model.remove_room(room("dev@rooms.test").key)
    model.remove_room(room("team@rooms.test").key)  # the empty Rooms group goes too
    assert _names(model)[:2] == ["Work  (0/2)", "  Rooms"]
    assert model.rooms() == [] and not model.room_index(room("team@rooms.test").key).isValid()
    model.set_rooms([room("#a"), room("b@rooms.test", sphere=Sphere.WORK, unread=3)])
    assert len(model.rooms()) == 2
    assert model.room_index(room("#a").key).data() == "#a"  # only an address@service is shortened
    b = model.room_index(room("b@rooms.test").key)
    assert b.data(UNREAD_ROLE) == 3 and "3 unread" in b.data(Qt.ItemDataRole.ToolTipRole)


def test_dragging_a_person_asks_to_merge_it_or_move_it(qtbot: QtBot) -> None:
    model = RosterModel()
    proxy = RosterFilter(model)
    QAbstractItemModelTester(model, FAIL)
    QAbstractItemModelTester(proxy, FAIL)
    model.set_persons(
        [
            person(1, "Bob"),
            person(2, "Robert", handles=("robert@a.test", "rob@b.test")),
            person(3, "Dan", sphere=Sphere.WORK, group="Ops"),
        ]
    )
    bob, robert = model.person_index(1), model.person_index(2)
    work = model.sphere_index(Sphere.WORK)
    ops = model.index(0, 0, work)
    assert ops.data() == "Ops"
    robert_contact = model.index(1, 0, robert)
    assert model.flags(bob) & Qt.ItemFlag.ItemIsDragEnabled
    assert model.flags(work) & Qt.ItemFlag.ItemIsDropEnabled and model.flags(ops) & Qt.ItemFlag.ItemIsDropEnabled
    assert not model.flags(work) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(robert_contact) & (Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled)
    assert model.mimeTypes() == [PERSON_MIME]
    data = model.mimeData([bob])
    assert data.hasFormat(PERSON_MIME)
    move = Qt.DropAction.MoveAction

    requests: list[DropRequest] = []
    model.drop_requested.connect(requests.append)

    # Through the filter proxy, as the tree view drops: onto Robert -> merge Bob into Robert.
    assert proxy.dropMimeData(data, move, -1, -1, proxy.mapFromSource(robert))
    assert requests[-1] == DropRequest((1,), DropKind.MERGE, target=2)
    # Onto one of Robert's contacts: the same.
    assert model.dropMimeData(data, move, -1, -1, robert_contact)
    assert requests[-1] == DropRequest((1,), DropKind.MERGE, target=2)
    # Onto the Work header, the Ops group, or between the persons of Ops.
    assert model.dropMimeData(data, move, -1, -1, work)
    assert requests[-1] == DropRequest((1,), DropKind.SPHERE, sphere=Sphere.WORK)
    assert model.dropMimeData(data, move, -1, -1, ops)
    assert requests[-1] == DropRequest((1,), DropKind.GROUP, sphere=Sphere.WORK, group="Ops")
    assert model.dropMimeData(data, move, 0, 0, ops)
    assert requests[-1] == DropRequest((1,), DropKind.GROUP, sphere=Sphere.WORK, group="Ops")
    assert len(requests) == 5

    # Nothing to do: onto itself, its own contact, the sphere it is already right under; or not a person.
    personal = model.sphere_index(Sphere.PERSONAL)
    assert not model.canDropMimeData(data, move, -1, -1, bob)
    assert not model.canDropMimeData(data, move, -1, -1, model.index(0, 0, bob))
    assert not model.canDropMimeData(data, move, -1, -1, personal)
    assert not model.dropMimeData(data, move, -1, -1, personal)
    assert not model.canDropMimeData(model.mimeData([robert_contact]), move, -1, -1, work)
    junk = QMimeData()
    junk.setData(PERSON_MIME, QByteArray(b"bob"))
    assert not model.canDropMimeData(junk, move, -1, -1, robert)
    gone = QMimeData()
    gone.setData(PERSON_MIME, QByteArray(b"99"))
    assert not model.canDropMimeData(gone, move, -1, -1, robert)
    assert len(requests) == 5
    # The model itself changed nothing: the core does, and its events come back.
    assert _names(model) == [
        "Work  (0/1)",
        "  Ops",
        "    Dan",
        "      dan3@fake.test",
        "Personal  (0/2)",
        "  Bob",
        "    bob1@fake.test",
        "  Robert",
        "    robert@a.test",
        "    rob@b.test",
    ]


def test_a_person_in_two_groups_is_shown_under_each(qtbot: QtBot) -> None:
    """The core lists a person under every group it is in; so does the tree (two nodes, one person)."""
    model = RosterModel()
    proxy = RosterFilter(model)
    QAbstractItemModelTester(model, FAIL)
    QAbstractItemModelTester(proxy, FAIL)
    both = ("Friends", "Climbing")
    model.set_persons([person(1, "Bob", groups=both, presence=PresenceKind.AVAILABLE), person(2, "Ann")])
    assert _names(model) == [
        "Work  (0/0)",
        "Personal  (1/2)",  # Bob counts once
        "  Climbing",
        "    Bob",
        "      bob1@fake.test",
        "  Friends",
        "    Bob",
        "      bob1@fake.test",
        "  Ann",
        "    ann2@fake.test",
    ]
    first, second = model.person_indexes(1)
    assert model.person_index(1) == first and first != second
    assert first.parent().data() == "Friends" and second.parent().data() == "Climbing"  # the person's order
    assert first.data(PERSON_ID_ROLE) == second.data(PERSON_ID_ROLE) == 1
    assert model.persons() == [model.person(1), model.person(2)]  # one row per person

    # Every node follows: unread, a new contact; the filter finds it under both groups.
    model.set_unread(1, 2)
    assert [i.data(UNREAD_ROLE) for i in model.person_indexes(1)] == [2, 2]
    model.upsert(person(1, "Bob", groups=both, handles=("bob@a.test", "bob@b.test")))
    assert [model.rowCount(i) for i in model.person_indexes(1)] == [2, 2]
    proxy.set_text("bob@b")
    shown = _names(proxy)
    assert [n.strip() for n in shown if n.startswith("  ") and not n.startswith("    ")] == ["Climbing", "Friends"]
    assert [n for n in shown if n.strip() == "Bob"] == ["    Bob", "    Bob"] and "  Ann" not in shown
    proxy.set_text("")

    # Dragging either node drags the person; dropping on its other group moves it there only.
    requests: list[DropRequest] = []
    model.drop_requested.connect(requests.append)
    data = model.mimeData([model.person_indexes(1)[1]])  # the node under Climbing
    friends = model.person_indexes(1)[0].parent()
    assert model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, friends)
    assert requests == [DropRequest((1,), DropKind.GROUP, sphere=Sphere.PERSONAL, group="Friends")]
    assert model.mimeData(model.person_indexes(1)).data(PERSON_MIME).data() == b"1"

    # Out of one group: one node left; removed: no empty group stays.
    model.upsert(person(1, "Bob", groups=("Friends",)))
    assert _names(model)[:4] == ["Work  (0/0)", "Personal  (0/2)", "  Friends", "    Bob"]
    assert len(model.person_indexes(1)) == 1
    model.upsert(person(1, "Bob", groups=both))
    model.remove(1)
    assert model.person_indexes(1) == []
    assert _names(model) == ["Work  (0/0)", "Personal  (0/1)", "  Ann", "    ann2@fake.test"]


def test_a_spheres_title_counts_its_persons_as_they_come_change_and_go(qtbot: QtBot) -> None:
    model = RosterModel()
    QAbstractItemModelTester(model, FAIL)
    online = PresenceKind.AVAILABLE

    def titles() -> list[str]:
        return [str(model.index(row, 0).data()) for row in range(model.rowCount())]

    model.set_persons(
        [
            person(1, "Anna", sphere=Sphere.WORK, presence=online),
            person(2, "Bob", groups=("Friends", "Climbing"), presence=online),  # two nodes, one person
            person(3, "Carol"),
        ]
    )
    assert titles() == ["Work  (1/1)", "Personal  (1/2)"]
    model.upsert(person(3, "Carol", presence=online))  # comes online, in place
    assert titles() == ["Work  (1/1)", "Personal  (2/2)"]
    model.upsert(person(2, "Bob", sphere=Sphere.WORK, presence=PresenceKind.AWAY))  # moves, still online
    assert titles() == ["Work  (2/2)", "Personal  (1/1)"]
    model.set_unread(1, 4)  # unread changes nothing in the count
    model.upsert(person(4, "Dan", sphere=Sphere.WORK))
    model.remove(1)
    assert titles() == ["Work  (1/2)", "Personal  (1/1)"]
    model.set_persons([person(5, "Eve", presence=online)])
    assert titles() == ["Work  (0/0)", "Personal  (1/1)"]
