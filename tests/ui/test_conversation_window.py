"""The conversation model as a window in the middle of a timeline (opened at a search hit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.archive.records import Direction, StoredMessage
from ui.models.conversation_model import ConversationModel

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
KEY = ConversationKey.direct("fake:me@fake.test", "bob@fake.test")


def msg(i: int) -> StoredMessage:
    at = T0 + timedelta(minutes=i)
    return StoredMessage(
        id=1000 + i,
        account_id="fake:me@fake.test",
        conversation_id=1,
        conversation=KEY,
        direction=Direction.IN,
        kind=MessageKind.CHAT,
        sender="bob@fake.test",
        body=f"m{i}",
        sent_at=at,
        received_at=at,
        state=MessageState.RECEIVED,
    )


def bodies(model: ConversationModel) -> list[str]:
    return [m.body for m in model.messages]


def at_newest(model: ConversationModel) -> bool:
    return model.at_newest


def test_a_window_pages_both_ways_and_keeps_live_messages_out_until_it_reaches_the_newest(qtbot: QtBot) -> None:
    model = ConversationModel()
    older: list[object] = []
    newer: list[object] = []
    model.older_wanted.connect(older.append)
    model.newer_wanted.connect(newer.append)

    model.show_window([msg(i) for i in range(40, 45)], has_older=True, has_newer=True)
    # The tester asks for more itself (fetchMore), as a view would: here, the page before m40.
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert bodies(model) == ["m40", "m41", "m42", "m43", "m44"]
    assert not at_newest(model) and model.row_of(1042) == 2 and model.row_of(1099) is None

    # A live message now would leave a gap after m44: not shown.
    assert model.add(msg(90)) is False
    assert bodies(model)[-1] == "m44"

    # Scrolling up pages back as before; scrolling down asks for what follows m44.
    model.fetchMore(model.index(0, 0).parent())
    assert older == [1040]
    model.prepend([msg(38), msg(39)], has_more=False)
    model.fetch_newer()
    model.fetch_newer()  # already loading: asked once
    assert newer == [1044]
    model.append_newer([msg(45), msg(46)], has_more=True, after_id=1044)
    assert bodies(model) == ["m38", "m39", "m40", "m41", "m42", "m43", "m44", "m45", "m46"]
    assert not at_newest(model)

    # An answer for a window that has moved on is dropped.
    model.fetch_newer()
    model.show_window([msg(60), msg(61)], has_older=True, has_newer=True)
    model.append_newer([msg(47)], has_more=False, after_id=1046)
    assert bodies(model) == ["m60", "m61"]

    # The last page: now at the newest end, live messages are appended again.
    model.fetch_newer()
    model.append_newer([msg(62), msg(90)], has_more=False, after_id=1061)
    assert at_newest(model)
    assert model.add(msg(91)) is True
    assert bodies(model) == ["m60", "m61", "m62", "m90", "m91"]


def test_an_older_page_asked_for_before_the_window_moved_is_dropped(qtbot: QtBot) -> None:
    model = ConversationModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)  # asks for a page
    model.prepend([msg(i) for i in range(80, 90)], has_more=True)
    model.fetchMore(model.index(0, 0).parent())  # scrolled up: the page before m80 is asked for
    assert model.loading
    model.show_window([msg(i) for i in range(85, 88)], has_older=True, has_newer=True)
    model.prepend([msg(i) for i in range(70, 80)], has_more=True)  # the stale answer: m79 is no neighbour of m85
    assert bodies(model) == ["m85", "m86", "m87"]
    model.fetchMore(model.index(0, 0).parent())  # the page before m85
    model.prepend([msg(83), msg(84)], has_more=True)
    assert bodies(model) == ["m83", "m84", "m85", "m86", "m87"]


def test_a_failed_stale_page_does_not_swallow_the_next_answer(qtbot: QtBot) -> None:
    model = ConversationModel()
    asked: list[object] = []
    model.older_wanted.connect(asked.append)
    model.fetchMore(model.index(0, 0).parent())  # the newest page, asked for by a new tab
    model.show_window([msg(50), msg(51)], has_older=True, has_newer=False)
    model.fetchMore(model.index(0, 0).parent())  # the user scrolls up at once
    assert asked == [None, 1050]
    model.load_failed()  # the newest page's answer: an error
    model.prepend([msg(48), msg(49)], has_more=False)
    assert bodies(model) == ["m48", "m49", "m50", "m51"]
