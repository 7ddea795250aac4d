"""``ConversationModel`` under ``QAbstractItemModelTester`` while pages are prepended, rows added and updated."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QModelIndex
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.archive.records import Direction, StoredMessage
from ui.models.conversation_model import MESSAGE_ROLE, ConversationModel

KEY = ConversationKey.direct("fake:alice@fake.test", "bob@fake.test")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def message(mid: int, body: str = "", *, state: MessageState = MessageState.RECEIVED) -> StoredMessage:
    at = T0 + timedelta(seconds=mid)
    return StoredMessage(
        id=mid,
        account_id=KEY.account_id,
        conversation_id=1,
        conversation=KEY,
        direction=Direction.IN if state is MessageState.RECEIVED else Direction.OUT,
        kind=MessageKind.CHAT,
        sender="bob@fake.test",
        body=body or f"message {mid}",
        sent_at=at,
        received_at=at,
        state=state,
    )


def test_the_model_passes_the_tester_through_paging_adding_and_updating(qtbot: QtBot) -> None:
    model = ConversationModel()
    wanted: list[object] = []
    model.older_wanted.connect(wanted.append)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    # The tester fetches like a view does: the newest page is asked for, once.
    model.fetchMore(QModelIndex())
    assert wanted == [None] and not model.canFetchMore(QModelIndex())
    model.prepend([message(i) for i in range(100, 110)], has_more=True)
    assert model.rowCount() == 10

    assert model.add(message(120, state=MessageState.PENDING))
    assert not model.add(message(50))  # older than the loaded page: comes with paging
    model.update(replace(message(120, state=MessageState.PENDING), state=MessageState.FAILED, error="refused"))
    row = model.index(model.rowCount() - 1, 0)
    assert row.data(MESSAGE_ROLE).error == "refused"

    model.fetchMore(QModelIndex())
    assert wanted == [None, 100]
    model.prepend([message(i) for i in (90, 95, 95, 101)], has_more=False)  # a duplicate, an overlap
    assert [m.id for m in model.messages] == [90, 95, *range(100, 110), 120]
    assert not model.canFetchMore(QModelIndex())

    assert model.add(message(115))  # in the middle
    assert not model.add(message(115))  # unchanged
    assert model.add(message(115, "edited"))  # changed: updated in place
    assert [m.id for m in model.messages][-3:] == [109, 115, 120]
    assert model.index(model.rowCount() - 2, 0).data() == "edited"
