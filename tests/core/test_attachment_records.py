"""Attachment records (schema v8): linked to messages, found by name, deleted with their messages by
retention, and the stored file deleted when no message refers to it any more (issue 16, item 4)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageState, Sphere
from aggregator.archive import Archive, Direction, retention
from aggregator.archive.attachments import AttachmentTable
from aggregator.files.model import Attachment, AttachmentState
from aggregator.files.store import FileStore

NOW = datetime(2024, 6, 1, tzinfo=UTC)
PICTURE = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


@pytest.fixture
def archive(open_archive: Callable[[], Archive]) -> Iterator[Archive]:
    made = open_archive()
    made.upsert_account("x:work", "x", "w@x", "Work", Sphere.WORK)
    yield made
    made.close()


def _message(archive: Archive, days_ago: int, server_id: str) -> int:
    conv = archive.conversation_id(ConversationKey.direct("x:work", "bob"))
    assert conv is not None
    stored = archive.insert_message(
        conversation_id=conv,
        account_id="x:work",
        direction=Direction.IN,
        sender="bob",
        body="here is the picture",
        sent_at=NOW - timedelta(days=days_ago),
        state=MessageState.RECEIVED,
        server_id=server_id,
    )
    assert stored is not None
    return stored.id


async def _stored_picture(store: FileStore) -> Attachment:
    async def chunks() -> AsyncIterator[bytes]:
        yield PICTURE

    received = await store.receive(chunks())
    path = store.release(received)
    return Attachment(
        name="holiday.png",
        size=len(PICTURE),
        mime_type="image/png",
        state=AttachmentState.CLEAN,
        sha256=received.sha256,
        local_path=path,
    )


def test_records_round_trip_and_are_found_by_name(archive: Archive) -> None:
    table = AttachmentTable(archive)
    message = _message(archive, 1, "m1")
    held = Attachment(
        name="Quarterly Report.PDF",
        size=10,
        mime_type="application/pdf",
        state=AttachmentState.QUARANTINED,
        reason="held: the virus scanner cannot be reached",
    )
    attachment_id = table.add(message, held)
    stored = table.get(attachment_id)
    assert stored is not None and stored.message_id == message and stored.attachment == held
    table.update(
        attachment_id, Attachment(name=held.name, size=10, mime_type="application/pdf", state=AttachmentState.CLEAN)
    )
    assert table.for_messages([message])[message][0].attachment.state is AttachmentState.CLEAN
    assert table.message_ids_with_files() == {message}
    assert table.message_ids_with_files(name="report") == {message}
    assert table.message_ids_with_files(name="holiday") == set()
    assert [a.attachment.name for a in table.newest(name="QUARTERLY")] == ["Quarterly Report.PDF"]
    assert table.newest(name="%") == []  # a wildcard character is a character


async def test_retention_deletes_records_and_the_last_copy_of_a_file(archive: Archive, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    picture = await _stored_picture(store)
    assert picture.local_path is not None and picture.sha256 == hashlib.sha256(PICTURE).hexdigest()
    table = AttachmentTable(archive)
    old, older, recent = _message(archive, 300, "a"), _message(archive, 400, "b"), _message(archive, 3, "c")
    for message in (old, older):
        table.add(message, picture)

    retention.apply(archive, retention.RetentionScope(days=100, now=NOW), release_files=store.delete_contents)
    assert table.for_messages([old, older]) == {}
    assert not picture.local_path.exists()  # no message refers to it any more

    picture = await _stored_picture(store)
    table.add(recent, picture)
    table.add(_message(archive, 200, "d"), picture)
    retention.apply(archive, retention.RetentionScope(days=100, now=NOW), release_files=store.delete_contents)
    assert picture.local_path is not None and picture.local_path.exists()  # the recent message still has it
    assert list(table.for_messages([recent])) == [recent]


def test_search_finds_messages_by_file(archive: Archive) -> None:
    from aggregator.search import SearchService

    table = AttachmentTable(archive)
    with_pdf, with_picture, plain = _message(archive, 3, "p"), _message(archive, 2, "q"), _message(archive, 1, "r")
    table.add(
        with_pdf,
        Attachment(name="Q3_report 100%.pdf", size=1, mime_type="application/pdf", state=AttachmentState.CLEAN),
    )
    table.add(with_picture, Attachment(name="holiday.png", size=1, mime_type="image/png", state=AttachmentState.CLEAN))
    search = SearchService(archive)

    def ids(text: str) -> list[int]:
        return [hit.message.id for hit in search.search(text, now=NOW)]

    assert ids("has:file") == [with_picture, with_pdf]
    assert ids("file:REPORT") == [with_pdf]
    assert ids("file:100%") == [with_pdf] and ids("file:_") == [with_pdf]  # wildcards are characters
    assert ids("file:x%y") == []
    assert ids("picture has:file") == [with_picture, with_pdf]  # words still match the message text
    assert ids("picture") == [plain, with_picture, with_pdf]


async def test_the_scheduled_retention_deletes_the_files_of_what_it_deletes(archive: Archive, tmp_path: Path) -> None:
    from aggregator.prefs.retention_job import RetentionJob

    store = FileStore(tmp_path / "files")
    picture = await _stored_picture(store)
    AttachmentTable(archive).add(_message(archive, 300, "old"), picture)
    job = RetentionJob(archive, lambda: {100: ("x:work",)}, clock=lambda: NOW)
    job.release_files = store.delete_contents
    assert await job.run_once() == 1
    assert picture.local_path is not None and not picture.local_path.exists()
