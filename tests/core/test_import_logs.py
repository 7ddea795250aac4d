"""Pidgin and Trillian log imports into an archive: parsing, accounts, idempotence."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.api import MessageKind, Sphere
from aggregator.archive import Archive, Direction
from aggregator.archive.importers import (
    AccountMapper,
    ImportSummary,
    KnownAccount,
    LogFile,
    import_logs,
    pidgin,
    trillian,
)
from aggregator.search import SearchService

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def archive(open_archive: Callable[[], Archive]) -> Iterator[Archive]:
    made = open_archive()
    yield made
    made.close()


def _pidgin(archive: Archive, configured: list[KnownAccount] | None = None) -> ImportSummary:
    root, files = pidgin.read(FIXTURES / "pidgin")
    return import_logs(
        archive,
        pidgin.parse_all(root, files),
        source="pidgin",
        accounts=AccountMapper(archive, configured or [], "Pidgin"),
    )


def _parsed(relative: str) -> LogFile:
    root = FIXTURES / "pidgin" / "logs"
    parsed = pidgin.parse_file(root, root / relative)
    assert isinstance(parsed, LogFile)
    return parsed


def test_pidgin_html_is_stored_as_plain_text_with_kinds_directions_and_times() -> None:
    log = _parsed("jabber/alice@example.org/bob@example.org/2024-03-01.120000+0100CET.html")
    assert (log.protocol, log.account, log.handle) == ("xmpp", "alice@example.org", "bob@example.org")
    first, reply, system, action, script = log.lines
    assert first.body == 'Fish & chips at noon? 5 < 6 "really"'
    assert first.sender == "Bob Builder" and first.direction is Direction.IN
    assert first.sent_at == datetime(2024, 3, 1, 11, 0, 5, tzinfo=UTC)
    assert reply.body == "sure, see you there\nbring the café map" and reply.direction is Direction.OUT
    assert system.kind is MessageKind.SYSTEM and system.body == "Bob Builder has signed off."
    assert action.kind is MessageKind.ACTION and action.body == "waves goodbye" and action.direction is Direction.OUT
    assert script.body == "<script>alert(1)</script> is just text"
    for line in log.lines:
        assert "<font" not in line.body and "<b>" not in line.body and "&amp;" not in line.body
    assert [(s.line, s.reason) for s in log.skipped] == [(7, "not a message line")]


def test_pidgin_text_log_continuations_system_and_bad_times() -> None:
    log = _parsed("jabber/alice@example.org/bob@example.org/2024-03-02.093000+0100CET.txt")
    bodies = [(entry.kind, entry.direction, entry.body) for entry in log.lines]
    assert bodies == [
        (MessageKind.CHAT, Direction.IN, "morning! the zeppelin arrives today"),
        (MessageKind.CHAT, Direction.OUT, "great: finally\nand a second line"),
        (MessageKind.SYSTEM, Direction.IN, "bob@example.org has gone away."),
        (MessageKind.ACTION, Direction.OUT, "dances"),
        (MessageKind.SYSTEM, Direction.IN, "broken time"),  # kept, at the previous line's time
    ]
    assert log.lines[-1].sent_at == log.lines[-2].sent_at
    assert [w.reason for w in log.warnings] == ["unreadable time (09:34:xx): kept the previous line's time"]


def test_pidgin_am_pm_times_roll_over_midnight_in_the_files_offset() -> None:
    log = _parsed("aim/alice123/bob456/2008-07-04.235800-0400EDT.html")
    assert [entry.sent_at for entry in log.lines] == [
        datetime(2008, 7, 5, 3, 58, 30, tzinfo=UTC),
        datetime(2008, 7, 5, 4, 1, 10, tzinfo=UTC),
    ]


def test_pidgin_import_is_idempotent_and_reports_skips(archive: Archive) -> None:
    first = _pidgin(archive)
    assert first.inserted == 15 and first.duplicates == 0
    assert sorted(s.reason.split(" (")[0] for s in first.skipped_files) == [
        "a connection log",
        "the file name is not a Pidgin log name",
    ]
    assert sorted(first.accounts_created) == ["aim:alice123", "xmpp:alice@example.org"]
    again = _pidgin(archive)
    assert again.inserted == 0 and again.duplicates == 15
    assert again.accounts_created == []
    assert archive.count_messages() == 15
    hits = SearchService(archive).search("chips")
    assert [h.message.body for h in hits] == ['Fish & chips at noon? 5 < 6 "really"']


def test_the_same_logs_under_another_root_are_still_recognised(archive: Archive, tmp_path: Path) -> None:
    _pidgin(archive)
    copy = tmp_path / "elsewhere" / ".purple"
    shutil.copytree(FIXTURES / "pidgin", copy)
    root, files = pidgin.read(copy)
    result = import_logs(
        archive, pidgin.parse_all(root, files), source="pidgin", accounts=AccountMapper(archive, [], "P")
    )
    assert result.inserted == 0 and result.duplicates == 15


def test_logs_of_a_configured_account_go_to_it(archive: Archive) -> None:
    mine = KnownAccount("xmpp:alice@example.org/x", "xmpp", "Alice@Example.org", "Home", Sphere.WORK)
    summary = _pidgin(archive, [mine])
    assert summary.accounts_created == ["aim:alice123"]
    rows = archive.read_rows("SELECT account_id, count(*) FROM messages GROUP BY account_id ORDER BY 1")
    assert rows == [("aim:alice123", 2), ("xmpp:alice@example.org/x", 13)]
    assert archive.read_rows("SELECT sphere FROM accounts WHERE id = ?", (mine.id,)) == [("work",)]


def test_trillian_sessions_actions_and_skips(archive: Archive) -> None:
    root, files = trillian.read(FIXTURES / "trillian")
    parsed = [trillian.parse_file(root, f) for f in files]
    logs = {p.handle: p for p in parsed if isinstance(p, LogFile)}
    bob = logs["bob456"]
    assert (bob.protocol, bob.account) == ("icq", "alice123")
    assert [(e.kind, e.direction, e.body) for e in bob.lines] == [
        (MessageKind.CHAT, Direction.OUT, "hi bob, long time"),
        (MessageKind.CHAT, Direction.IN, "hi alice! got the photos?\nthey are on the usual server"),
        (MessageKind.ACTION, Direction.OUT, "waves"),
        (MessageKind.SYSTEM, Direction.IN, "bob456 has signed off."),
        (MessageKind.CHAT, Direction.IN, "almost midnight"),
        (MessageKind.CHAT, Direction.OUT, "happy new day"),
    ]
    assert bob.lines[-1].sent_at.date().isoformat() in ("2024-03-03", "2024-03-02")  # local zone
    assert [(s.line, s.reason) for s in bob.skipped] == [(8, "outside a Session Start / Session Close")]
    assert logs["#linux"].kind.name == "ROOM" and logs["#linux"].protocol == "irc"
    skipped = [p for p in parsed if not isinstance(p, LogFile)]
    assert [str(s) for s in skipped] == ["ICQ/notes.log: no Session Start line: whose log this is is unknown"]
    first = import_logs(archive, iter(parsed), source="trillian", accounts=AccountMapper(archive, [], "Trillian"))
    again = import_logs(
        archive,
        trillian.parse_all(root, files),
        source="trillian",
        accounts=AccountMapper(archive, [], "Trillian"),
    )
    assert (first.inserted, again.inserted, again.duplicates) == (9, 0, 9)
