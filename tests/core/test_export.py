"""Export: oldest first, filters as in search, atomic writes, escaped self-contained HTML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageState, Sphere
from aggregator.app.wire import message_json
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.search import parse
from aggregator.search.export import ExportFormat, Selection, export

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BODIES = ["<script>alert('x')</script> hello", "plain zebra & co", 'quote " and </div>', "zebra\nsecond line"]


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    made = Archive.open(path=tmp_path / "archive.sqlite3")
    made.upsert_account("x:a", "x", "a@x", "", Sphere.WORK)
    conv = made.conversation_id(ConversationKey.direct("x:a", "<b>bob</b>"))
    assert conv is not None
    for i, body in enumerate(BODIES):
        made.insert_message(
            conversation_id=conv,
            account_id="x:a",
            direction=Direction.IN if i % 2 == 0 else Direction.OUT,
            sender="<img src=x onerror=alert(1)>",
            body=body,
            sent_at=T0 + timedelta(minutes=i),
            state=MessageState.RECEIVED,
        )
    yield made
    made.close()


def test_jsonl_is_the_public_shape_oldest_first(archive: Archive, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    assert export(Selection(archive), target, ExportFormat.JSONL, shape=message_json) == 4
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["body"] for r in rows] == BODIES
    assert set(rows[0]) == set(message_json(_first(archive)))
    assert target.stat().st_mode & 0o777 == 0o600


def _first(archive: Archive) -> StoredMessage:
    ((conv,),) = archive.read_rows("SELECT id FROM conversations")
    return archive.history([int(conv)])[0]


def test_a_query_selects_like_search_and_pages_through_everything(archive: Archive, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    selection = Selection(archive, parse("zebra"))
    assert selection.count() == 2
    assert export(selection, target, ExportFormat.TXT, shape=message_json, tz=UTC) == 2
    text = target.read_text(encoding="utf-8")
    assert "2024-06-01 12:01:00  -> <img src=x onerror=alert(1)>: plain zebra & co" in text
    assert "zebra\n    second line" in text
    assert "hello" not in text


def test_html_is_self_contained_and_escapes_every_body_and_name(archive: Archive, tmp_path: Path) -> None:
    target = tmp_path / "out.html"
    export(Selection(archive), target, ExportFormat.HTML, shape=message_json, title="<i>mine</i>")
    page = target.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>bob" not in page and "<i>mine" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; hello" in page
    assert "quote &quot; and &lt;/div&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert (
        "<style>" in page
        and "http://" not in page
        and "https://" not in page
        and 'src="' not in page
        and "href=" not in page
    )
    assert page.count("<div class=") == 4


def test_a_failed_export_leaves_the_old_file_and_no_temporary(archive: Archive, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous export\n", encoding="utf-8")

    def broken(m: StoredMessage) -> dict[str, object]:
        if m.body.startswith("quote"):
            raise RuntimeError("disk on fire")
        return message_json(m)

    with pytest.raises(RuntimeError):
        export(Selection(archive), target, ExportFormat.JSONL, shape=broken)
    assert target.read_text(encoding="utf-8") == "previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["archive.sqlite3", "archive.sqlite3-shm", "archive.sqlite3-wal", "out.jsonl"]
    )


def test_more_than_a_page_is_streamed_in_order(archive: Archive, tmp_path: Path) -> None:
    ((conv,),) = archive.read_rows("SELECT id FROM conversations")
    for i in range(2500):
        archive.insert_message(
            conversation_id=int(conv),
            account_id="x:a",
            direction=Direction.IN,
            sender="s",
            body=f"bulk zebra {i}",
            sent_at=T0 + timedelta(hours=1, seconds=i),
            state=MessageState.RECEIVED,
        )
    for query in (None, parse("zebra")):
        target = tmp_path / "bulk.jsonl"
        written = export(Selection(archive, query), target, ExportFormat.JSONL, shape=message_json)
        ids = [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()]
        assert written == len(ids) == (2504 if query is None else 2502)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_files_are_copied_beside_the_export_and_held_ones_only_listed(archive: Archive, tmp_path: Path) -> None:
    from aggregator.archive.attachments import AttachmentTable
    from aggregator.files.model import Attachment, AttachmentState

    picture = tmp_path / "stored-picture"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n-picture")
    first = archive.get(1) or next(iter(Selection(archive)))
    table = AttachmentTable(archive)
    table.add(
        first.id,
        Attachment(
            name="<holiday>.png",
            size=16,
            mime_type="image/png",
            state=AttachmentState.CLEAN,
            sha256="ab" * 32,
            local_path=picture,
        ),
    )
    table.add(
        first.id,
        Attachment(
            name="invoice.pdf",
            size=68,
            mime_type="application/pdf",
            state=AttachmentState.INFECTED,
            reason="a virus was found: Eicar",
            local_path=picture,
        ),
    )
    target = tmp_path / "out" / "chat.html"
    target.parent.mkdir()
    export(Selection(archive), target, ExportFormat.HTML, shape=message_json)
    copies = sorted(p.name for p in (target.parent / "chat.html_files").iterdir())
    assert len(copies) == 1 and copies[0].endswith("-<holiday>.png")
    assert (target.parent / "chat.html_files" / copies[0]).read_bytes() == picture.read_bytes()
    page = target.read_text()
    assert 'href="chat.html_files/' in page and "&lt;holiday&gt;.png</a>" in page
    assert "invoice.pdf (not copied: a virus was found: Eicar)" in page
    assert not list(target.parent.glob(".*partial"))

    jsonl = tmp_path / "out" / "chat.jsonl"
    export(Selection(archive), jsonl, ExportFormat.JSONL, shape=message_json)
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    files = next(r["files"] for r in rows if "files" in r)
    assert [(f["name"], f["state"], f["copy"] is not None) for f in files] == [
        ("<holiday>.png", "clean", True),
        ("invoice.pdf", "infected", False),
    ]
