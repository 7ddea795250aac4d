"""The import's fast paths give exactly what the general code gives, and a many-file import does not
commit once per conversation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import event

from aggregator.api import ConversationKey, ConversationKind, Sphere
from aggregator.archive import Archive
from aggregator.archive.importers import AccountMapper, import_logs, pidgin
from aggregator.archive.importers.common import html_text, percent_text


@pytest.fixture
def archive(open_archive: Callable[[], Archive]) -> Iterator[Archive]:
    made = open_archive()
    yield made
    made.close()


def _unquote_reference(value: str) -> str:
    try:
        return unquote(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return unquote(value, encoding="cp1252", errors="replace")


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "caf%C3%A9%20au%20lait",
        "lower%c3%a9case",
        "%E2%82%AC%205",
        "%80%20Windows-1252 %93quoted%94",
        "%%41",
        "%4%41",
        "%zz and 100%",
        "trailing %C3",
        "a+b%2Bc",
        "déjà%20vu",
        "%F0%9F%98%80",
        "",
    ],
)
def test_percent_text_decodes_as_urllib_does(value: str) -> None:
    assert percent_text(value) == _unquote_reference(value)


@pytest.mark.parametrize("text", ["hello there", "  spaced\r\n out\xa0word  ", "x > y", "", "\xa0"])
def test_plain_html_text_is_what_the_parser_gives(text: str) -> None:
    # A fragment with a tag goes through the HTML parser; the tag itself adds no text.
    assert html_text(text) == html_text(text + "<i></i>")
    assert html_text(text)[1] is False


def _pidgin_tree(root: Path, conversations: int) -> None:
    for n in range(conversations):
        folder = root / "logs" / "jabber" / "me@example.org" / f"buddy{n}@example.org"
        folder.mkdir(parents=True)
        lines = [
            f'<font color="#A82F2F"><font size="2">(10:00:{s:02d})</font> <b>Buddy {n}:</b></font> hi {s}<br/>'
            for s in range(3)
        ]
        (folder / "2015-03-01.100000+0000UTC.html").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_many_conversations_are_created_with_few_commits(archive: Archive, tmp_path: Path) -> None:
    _pidgin_tree(tmp_path, 60)
    commits: list[object] = []
    event.listen(archive._engine, "commit", lambda conn: commits.append(conn))
    root, files = pidgin.read(tmp_path)
    summary = import_logs(
        archive, pidgin.parse_all(root, files), source="pidgin", accounts=AccountMapper(archive, [], "Pidgin")
    )
    assert summary.inserted == 180
    assert len(summary.conversations) == 60
    # One batch: the account, the 60 conversations together, the messages (and their reads): not 60+ commits.
    assert len(commits) < 10, len(commits)
    again = import_logs(
        archive, pidgin.parse_all(root, files), source="pidgin", accounts=AccountMapper(archive, [], "Pidgin")
    )
    assert (again.inserted, again.duplicates) == (0, 180)


def test_conversation_ids_match_conversation_id(archive: Archive) -> None:
    archive.upsert_account("xmpp:me@example.org", "xmpp", "me@example.org", "", Sphere.PERSONAL)
    first = ConversationKey("xmpp:me@example.org", ConversationKind.DIRECT, "a@example.org")
    known = archive.conversation_id(first)
    keys = [first, ConversationKey("xmpp:me@example.org", ConversationKind.DIRECT, "b@example.org"), first]
    ids = archive.conversation_ids(keys)
    assert ids[0] == ids[2] == known
    assert ids[1] != known
    assert archive.conversation_id(keys[1], create=False) == ids[1]
