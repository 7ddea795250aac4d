"""The window's "Import history…" dialog (offscreen, fake account) and status lines in the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.archive import Direction, StoredMessage
from aggregator.archive.importers.session import ImportProgress
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session
from ui.import_dialog import ImportDialog
from ui.timeline_text import GREY, message_html

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def session(gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.delenv("AGGREGATOR_POLICY", raising=False)
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    yield s
    s.window.save_state()
    s.shutdown()


def open_dialog(session: Session) -> ImportDialog:
    action = session.window.import_action
    assert action.text().replace("&", "") == "Import history…"
    action.trigger()
    dialog = session.windows.importer
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_dialog_imports_with_progress_and_the_cli_summary_then_nothing_new(session: Session, qtbot: QtBot) -> None:
    dialog = open_dialog(session)
    assert [dialog.client.itemData(i) for i in range(dialog.client.count())][:1] == ["auto"]
    assert {"pidgin", "trillian"} <= {dialog.client.itemData(i) for i in range(dialog.client.count())}
    seen: list[object] = []
    dialog.progressed.connect(seen.append)
    dialog.folder.setText(str(DATA / "trillian" / "chat_unifier"))
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.outcomes is not None, timeout=10_000)
    assert dialog.status.text() == "Done: 4 new messages, 0 already in the archive."
    text = dialog.summary.toPlainText()
    assert "2 files, 4 new messages (0 already in the archive), 2 conversations" in text
    assert "taken as yours: Me (Trillian's outgoing messages)" in text
    assert dialog.bar.value() == dialog.bar.maximum()
    last = seen[-1]
    assert isinstance(last, ImportProgress) and (last.files_done, last.files_total, last.messages) == (2, 2, 4)
    assert last.text().startswith("Trillian: 2/2 files, 4 messages (")
    dialog.import_button.click()
    qtbot.waitUntil(lambda: not dialog.running and dialog.status.text().startswith("Done: 0 new"), timeout=10_000)
    assert "0 new messages (4 already in the archive)" in dialog.summary.toPlainText()


def test_a_wrong_folder_says_why_and_imports_nothing(session: Session, qtbot: QtBot, tmp_path: Path) -> None:
    dialog = open_dialog(session)
    dialog.folder.setText(str(tmp_path))
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Nothing imported"), timeout=10_000)
    assert "no chat logs found under" in dialog.status.text()
    assert dialog.import_button.isEnabled() and dialog.summary.toPlainText() == ""
    dialog.zone.setText("Mars/Olympus")
    dialog.import_button.click()
    assert dialog.status.text() == "Unknown time zone 'Mars/Olympus': use a name like Europe/Berlin or UTC."


def test_a_status_line_is_dimmed_without_a_sender() -> None:
    at = datetime(2006, 3, 15, 18, 28, 43, tzinfo=UTC)
    key = ConversationKey.direct("icq:192880392", "192780216")
    status = StoredMessage(
        id=1,
        account_id=key.account_id,
        conversation_id=1,
        conversation=key,
        direction=Direction.IN,
        kind=MessageKind.SYSTEM,
        sender="",
        body="192780216 is now offline",
        sent_at=at,
        received_at=at,
        state=MessageState.RECEIVED,
    )
    row = message_html(status)
    assert f'<i style="color:{GREY}">192780216 is now offline</i>' in row
    assert "<b" not in row and ":</b>" not in row
