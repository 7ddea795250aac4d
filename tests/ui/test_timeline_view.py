"""The conversation view's timeline: day separators, sender names, tooltips, mentions, plain text."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from PySide6.QtCore import QEvent, QModelIndex, QPoint
from PySide6.QtGui import QHelpEvent, QTextCursor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.app.names import SenderNames
from aggregator.archive.records import Direction, StoredMessage
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel
from ui.timeline_text import day_label, tooltip

ACCOUNT = "fake:alice@fake.test"
OTHER = "fake:alice@other.test"
KEY = ConversationKey.direct(ACCOUNT, "bob@fake.test")
ROOM = ConversationKey.room(ACCOUNT, "team@rooms.fake.test")
TODAY = date(2026, 3, 12)  # a Thursday


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute).astimezone()


def msg(
    mid: int,
    at: datetime,
    body: str = "",
    *,
    out: bool = False,
    key: ConversationKey = KEY,
    account: str = ACCOUNT,
    sender: str = "bob@fake.test",
    nick: str | None = None,
    kind: MessageKind = MessageKind.CHAT,
) -> StoredMessage:
    return StoredMessage(
        id=mid,
        account_id=account,
        conversation_id=1,
        conversation=key,
        direction=Direction.OUT if out else Direction.IN,
        kind=kind,
        sender="alice@fake.test" if out else sender,
        body=body or f"message {mid}",
        sent_at=at,
        received_at=at,
        state=MessageState.SENT if out else MessageState.RECEIVED,
        sender_name=nick,
    )


def make_view(
    qtbot: QtBot, messages: list[StoredMessage], names: SenderNames | None = None
) -> tuple[MessageView, ConversationModel]:
    model = ConversationModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    view = MessageView(model)
    qtbot.addWidget(view)
    view.today = lambda: TODAY
    if names is not None:
        view.set_names(names)
    view.resize(700, 500)
    model.fetchMore(QModelIndex())
    model.prepend(messages, has_more=False)
    return view, model


def lines(view: MessageView) -> list[str]:
    return view.toPlainText().splitlines()


def centre_of(view: MessageView, block: int) -> QPoint:
    return view.cursorRect(QTextCursor(view.document().findBlockByNumber(block))).center()


def test_day_labels() -> None:
    assert day_label(TODAY, TODAY) == "Today"
    assert day_label(TODAY - timedelta(days=1), TODAY) == "Yesterday"
    assert day_label(TODAY - timedelta(days=2), TODAY) == "Tuesday"
    assert day_label(TODAY - timedelta(days=6), TODAY) == "Friday"
    assert day_label(TODAY - timedelta(days=7), TODAY) == "Thursday, 5 March 2026"  # a week ago: the date
    assert day_label(date(2025, 12, 31), TODAY) == "Wednesday, 31 December 2025"
    assert day_label(TODAY + timedelta(days=1), TODAY) == "Friday, 13 March 2026"  # a clock ahead of ours


def test_a_separator_before_the_first_row_and_wherever_the_local_day_changes(qtbot: QtBot) -> None:
    old = TODAY - timedelta(days=20)
    messages = [
        msg(1, local(old, 23, 59)),
        msg(2, local(old + timedelta(days=1), 0, 1)),  # two minutes later, but the next day
        msg(3, local(TODAY - timedelta(days=3), 9)),
        msg(4, local(TODAY - timedelta(days=1), 9)),
        msg(5, local(TODAY - timedelta(days=1), 17)),
        msg(6, local(TODAY, 8, 5)),
    ]
    view, model = make_view(qtbot, messages)
    assert lines(view) == [
        "— Friday, 20 February 2026 —",
        "23:59 bob@fake.test: message 1",
        "— Saturday, 21 February 2026 —",
        "00:01 bob@fake.test: message 2",
        "— Monday —",
        "09:00 bob@fake.test: message 3",
        "— Yesterday —",
        "09:00 bob@fake.test: message 4",
        "17:00 bob@fake.test: message 5",
        "— Today —",
        "08:05 bob@fake.test: message 6",
    ]
    # Separators are not messages: the rows map to their own blocks.
    assert view.block_of_row(0) == 1 and view.block_of_row(5) == 10
    view.show()
    assert view.message_at(centre_of(view, 0)) is None
    assert view.message_at(centre_of(view, 1)) == messages[0]
    assert view.message_at(centre_of(view, 10)) == messages[5]

    # A live message the same day adds no separator; one on a later day does.
    model.add(msg(7, local(TODAY, 9)))
    assert lines(view)[-2:] == ["08:05 bob@fake.test: message 6", "09:00 bob@fake.test: message 7"]
    model.add(msg(8, local(TODAY + timedelta(days=1), 0, 30)))  # after midnight
    assert lines(view)[-2:] == ["— Friday, 13 March 2026 —", "00:30 bob@fake.test: message 8"]
    assert view.message_at(centre_of(view, view.block_of_row(7) or 0)) is not None

    # After midnight "Today" moves on: a timer renders the view again then.
    assert view.midnight.isActive() and 0 < view.midnight.remainingTime() <= 25 * 3600 * 1000
    view.today = lambda: TODAY + timedelta(days=1)
    view.midnight.timeout.emit()
    assert "— Yesterday —" in lines(view) and lines(view)[-2] == "— Today —"
    assert view.midnight.isActive()


def test_an_older_page_gets_its_separators_and_the_hit_is_found_by_row(qtbot: QtBot) -> None:
    model = ConversationModel()
    view = MessageView(model)
    qtbot.addWidget(view)
    view.today = lambda: TODAY
    model.fetchMore(QModelIndex())
    model.prepend([msg(10, local(TODAY, 9)), msg(11, local(TODAY, 10))], has_more=True)
    model.fetchMore(QModelIndex())
    model.prepend([msg(5, local(TODAY - timedelta(days=1), 22))], has_more=False)
    assert lines(view) == [
        "— Yesterday —",
        "22:00 bob@fake.test: message 5",
        "— Today —",
        "09:00 bob@fake.test: message 10",
        "10:00 bob@fake.test: message 11",
    ]
    assert view.highlight(11)
    assert view.textCursor().block().blockNumber() == 4
    assert view.textCursor().selectedText().endswith("message 11")


def test_person_tab_names_their_messages_with_the_persons_name_and_ours_with_ours(qtbot: QtBot) -> None:
    names = SenderNames(person="Bob Builder", own={ACCOUNT: "Alice"}, accounts={ACCOUNT: "Work", OTHER: "Home"})
    messages = [
        msg(1, local(TODAY, 9), "hi"),
        msg(2, local(TODAY, 9, 1), "hello", out=True),
        msg(3, local(TODAY, 9, 2), "from home", out=True, account=OTHER),  # no name known there: still us
        msg(4, local(TODAY, 9, 3), "waves", kind=MessageKind.ACTION),
        msg(5, local(TODAY, 9, 4), "nods", out=True, kind=MessageKind.ACTION, account=OTHER),
    ]
    view, _model = make_view(qtbot, messages, names)
    assert lines(view) == [
        "— Today —",
        "09:00 Bob Builder: hi",
        "09:01 Alice: hello ✓",
        "09:02 [on Home] Alice: from home ✓",  # one name for us (not "me" here and "Alice" there)
        "09:03 [on Work] * Bob Builder waves",  # the time first: the column holds
        "09:04 [on Home] * Alice nods ✓",  # never "* me nods"
    ]
    assert "bob@fake.test" not in view.toPlainText()


def test_each_row_has_a_tooltip_with_the_full_date_the_address_and_the_account(qtbot: QtBot) -> None:
    names = SenderNames(person="Bob Builder", accounts={ACCOUNT: "Work (fake)"})
    first = msg(1, local(date(2026, 3, 2), 14, 5), "hi")
    view, _model = make_view(qtbot, [first, msg(2, local(TODAY, 9), "yes", out=True)], names)
    view.show()
    qtbot.waitExposed(view)
    assert view.tooltip_at(centre_of(view, 1)) == (
        "Monday, 2 March 2026, 14:05:00\nFrom Bob Builder (bob@fake.test)\nAccount: Work (fake)"
    )
    assert view.tooltip_at(centre_of(view, 3)).splitlines()[1:] == ["From you", "Account: Work (fake)"]
    assert view.tooltip_at(centre_of(view, 0)) == ""  # the day separator
    assert view.tooltip_at(QPoint(20, view.viewport().height() - 5)) == ""  # below the last row

    # The tooltip event shows it (escaped: a name is text, never markup).
    names = replace(names, person="<b>Bob</b> & co")
    view.set_names(names)
    point = centre_of(view, 1)
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in QToolTip.text() and "<b>Bob" not in QToolTip.text()
    QToolTip.hideText()


def test_a_room_shows_nicks_ours_for_our_messages_and_highlights_mentions(qtbot: QtBot) -> None:
    names = SenderNames(own={ACCOUNT: "Ali"}, accounts={ACCOUNT: "Work"}, mention=("Ali", "alice@fake.test"))
    messages = [
        msg(1, local(TODAY, 9), "standup in 5", key=ROOM, sender="carol@fake.test", nick="Carol"),
        msg(2, local(TODAY, 9, 1), "ALI: can you look?", key=ROOM, sender="bob@fake.test", nick="Bob"),
        msg(3, local(TODAY, 9, 2), "alicia is out", key=ROOM, sender="carol@fake.test", nick="Carol"),
        msg(4, local(TODAY, 9, 3), "on it, Ali here", key=ROOM, out=True),
    ]
    view, _model = make_view(qtbot, messages, names)
    assert lines(view) == [
        "— Today —",
        "09:00 Carol: standup in 5",
        "09:01 Bob: ALI: can you look?",
        "09:02 Carol: alicia is out",
        "09:03 Ali: on it, Ali here ✓",
    ]
    view.show()
    qtbot.waitExposed(view)
    marked = [b for b in range(5) if view.document().findBlockByNumber(b).blockFormat().background().style().value]
    assert marked == [2]  # only the mention; our own line naming us is none
    assert view.tooltip_at(centre_of(view, 2)).endswith("Mentions you")
    assert "Mentions you" not in view.tooltip_at(centre_of(view, 3))


def test_markup_in_a_sender_name_and_a_body_stays_text(qtbot: QtBot) -> None:
    evil_name = "<img src=x onerror=alert(1)><b>Eve</b>"
    body = "<i>hi</i> &amp; <a href='javascript:x'>click</a> https://example.org/?a=1&b=<2>"
    in_room = msg(1, local(TODAY, 9), body, key=ROOM, nick=evil_name)
    room, _m = make_view(qtbot, [in_room], SenderNames(mention=("Eve",)))
    person, _m = make_view(qtbot, [msg(1, local(TODAY, 9), body)], SenderNames(person=evil_name))
    for view in (room, person):
        html = view.toHtml()
        assert f"09:00 {evil_name}: {body}" in view.toPlainText()
        assert "<img" not in html and "<b>Eve" not in html and "<i>hi" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;Eve&lt;/b&gt;" in html
        assert "&amp;amp;" in html  # the body's own "&amp;" is shown as typed
        assert re.findall(r'href="([^"]*)"', html) == ["https://example.org/?a=1&amp;b="]  # only our link
    assert tooltip(in_room, room.names).splitlines()[1] == f"From {evil_name} (bob@fake.test)"


def test_our_messages_are_me_when_no_account_gives_a_name(qtbot: QtBot) -> None:
    names = SenderNames(person="Bob Builder", accounts={ACCOUNT: "Work", OTHER: "Home"})
    messages = [
        msg(1, local(TODAY, 9), "hello", out=True),
        msg(2, local(TODAY, 9, 1), "again", out=True, account=OTHER),
    ]
    view, _model = make_view(qtbot, messages, names)
    assert lines(view)[1:] == ["09:00 me: hello ✓", "09:01 [on Home] me: again ✓"]


def test_a_wrapped_message_continues_under_its_text_not_under_the_time(qtbot: QtBot) -> None:
    long_body = " ".join(["word"] * 120)
    view, _model = make_view(qtbot, [msg(1, local(TODAY, 9), long_body)], SenderNames(person="Bob"))
    view.resize(300, 500)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.document().findBlockByNumber(1).layout().lineCount() > 2, timeout=5000)
    block = view.document().findBlockByNumber(1)
    assert block.text().startswith("09:00 Bob: word")
    layout = block.layout()
    start = view.cursorRect(QTextCursor(block)).left()  # where the time is written
    cursor = QTextCursor(block)
    cursor.setPosition(block.position() + len("09:00 "))
    text_column = view.cursorRect(cursor).left()  # where the text after the time starts
    cursor.setPosition(block.position() + layout.lineAt(1).textStart())
    second_line = view.cursorRect(cursor).left()
    assert text_column > start + 10
    assert abs(second_line - text_column) <= 2, (start, text_column, second_line)
