"""A change of one message's state (a receipt, read, failed, sent again) touches that message's row only:
one ``dataChanged`` for its index, no reset, and the view writes that row's block again and nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QModelIndex
from PySide6.QtTest import QAbstractItemModelTester, QSignalSpy
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.archive.records import Direction, StoredMessage
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel

ACCOUNT = "fake:alice@fake.test"
OTHER = "fake:alice@other.test"
KEY = ConversationKey.direct(ACCOUNT, "bob@fake.test")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LOADED = 300
CHANGED = 150  # the row whose message changes state (ours)


def message(row: int) -> StoredMessage:
    at = T0 + timedelta(hours=row)  # about two weeks: a day separator every 24 rows
    ours = row % 3 == 0
    return StoredMessage(
        id=1000 + row,
        account_id=OTHER if row % 50 == 7 else ACCOUNT,  # now and then on another account: "[on …]"
        conversation_id=1,
        conversation=KEY,
        direction=Direction.OUT if ours else Direction.IN,
        kind=MessageKind.ACTION if row % 17 == 0 else MessageKind.CHAT,
        sender="alice@fake.test" if ours else "bob@fake.test",
        body=f"message {row} with a link https://example.org/{row}",
        sent_at=at,
        received_at=at,
        state=MessageState.SENT if ours else MessageState.RECEIVED,
    )


def block_texts(view: MessageView) -> list[str]:
    doc = view.document()
    return [doc.findBlockByNumber(n).text() for n in range(doc.blockCount())]


def test_one_state_change_rewrites_one_row_and_resets_nothing(qtbot: QtBot) -> None:
    model = ConversationModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    view = MessageView(model)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    model.fetchMore(QModelIndex())
    model.prepend([message(r) for r in range(LOADED)], has_more=True)
    assert model.rowCount() == LOADED
    before = block_texts(view)
    block = view.block_of_row(CHANGED)
    assert block is not None and before[block].endswith(f"message {CHANGED} with a link https://example.org/150 ✓")

    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # the user reads somewhere in the middle
    reading = bar.value()
    changed = QSignalSpy(model.dataChanged)
    resets = QSignalSpy(model.modelReset)
    layouts = QSignalSpy(model.layoutChanged)
    inserted, removed = QSignalSpy(model.rowsInserted), QSignalSpy(model.rowsRemoved)
    full_renders = QSignalSpy(view.rendered)
    rewritten: list[int] = []
    view.row_rewritten.connect(rewritten.append)
    edits: list[tuple[int, int, int]] = []
    view.document().contentsChange.connect(lambda pos, gone, added: edits.append((pos, gone, added)))

    # Delivered: the row's mark changes, and only that row is touched.
    original = model.messages[CHANGED]
    assert model.update(replace(original, state=MessageState.DELIVERED))
    assert changed.count() == 1
    top_left, bottom_right = changed.at(0)[0], changed.at(0)[1]
    assert top_left.row() == bottom_right.row() == CHANGED
    assert (resets.count(), layouts.count(), inserted.count(), removed.count()) == (0, 0, 0, 0)
    assert full_renders.count() == 0 and rewritten == [CHANGED]
    start = view.document().findBlockByNumber(block)
    end = start.position() + start.length()
    assert edits and all(start.position() <= pos and pos + added <= end for pos, _gone, added in edits)
    after = block_texts(view)
    assert len(after) == len(before)
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [block]
    assert after[block].endswith("https://example.org/150 ✓✓")
    assert bar.value() == reading  # what the user reads stays where it was

    # Failed, with its reason and a Retry link; then read. One row each time, never a reset.
    model.update(replace(original, state=MessageState.FAILED, error="the server said no"))
    assert "✗ failed: the server said no Retry" in block_texts(view)[block]
    assert f'href="retry:{original.id}"' in view.toHtml()
    model.update(replace(original, state=MessageState.READ))
    assert changed.count() == 3 and rewritten == [CHANGED] * 3
    assert (resets.count(), full_renders.count()) == (0, 0)

    # The same message again, or one that is not loaded: no signal at all.
    assert not model.update(replace(original, state=MessageState.READ))
    assert not model.update(replace(message(LOADED + 5), id=5))
    assert changed.count() == 3

    # What the one-row rewrite left is what a full render writes.
    fresh = MessageView(model)
    qtbot.addWidget(fresh)
    assert fresh.toHtml() == view.toHtml()
    assert block_texts(fresh) == block_texts(view)


def test_a_change_that_moves_a_day_separator_renders_the_whole_view(qtbot: QtBot) -> None:
    """A corrected timestamp on another day is not a one-row change: the separators must follow."""
    model = ConversationModel()
    view = MessageView(model)
    qtbot.addWidget(view)
    model.fetchMore(QModelIndex())
    model.prepend([message(r) for r in range(30)], has_more=False)
    full_renders = QSignalSpy(view.rendered)
    row = 3
    moved = replace(model.messages[row], sent_at=model.messages[row].sent_at + timedelta(days=1))
    model.update(moved)
    assert full_renders.count() == 1
    fresh = MessageView(model)
    qtbot.addWidget(fresh)
    assert block_texts(fresh) == block_texts(view)
