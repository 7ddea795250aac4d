"""Pidgin and Trillian importers on genuine published logs (tests/data/README says where each is from),
and on damaged copies of them: exact messages, own names, times in UTC, encodings, warnings."""

from __future__ import annotations

import shutil
import types
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.api import ContactRef, ConversationKind, MessageKind
from aggregator.archive import Archive, Direction
from aggregator.archive.importers import (
    AccountMapper,
    ImportSummary,
    KnownAccount,
    LogFile,
    ReadOptions,
    Skipped,
    import_logs,
)
from aggregator.archive.importers.common import Clock, decode, parse_date
from aggregator.archive.importers.formats import FORMATS, NothingToImport, _by_convention, formats, plan, recognise
from aggregator.search import SearchService
from tests.core.roster_helpers import XMPP, RosterWorld, world_at

DATA = Path(__file__).resolve().parents[1] / "data"
CHAT, SYSTEM = MessageKind.CHAT, MessageKind.SYSTEM
NY = ZoneInfo("America/New_York")


@pytest.fixture
def archive(open_archive: Callable[[], Archive]) -> Iterator[Archive]:
    made = open_archive()
    yield made
    made.close()


def _logs(directory: Path, options: ReadOptions | None = None, name: str = "auto") -> list[LogFile | Skipped]:
    out: list[LogFile | Skipped] = []
    for step in plan(name, directory):
        out.extend(step.format.parse_all(step.root, step.files, options or ReadOptions()))
    return out


def _one(directory: Path, options: ReadOptions | None = None) -> LogFile:
    (log,) = [p for p in _logs(directory, options) if isinstance(p, LogFile)]
    return log


def _rows(log: LogFile) -> list[tuple[str, Direction, str, datetime, MessageKind]]:
    return [(e.sender, e.direction, e.body, e.sent_at.astimezone(UTC), e.kind) for e in log.lines]


def _store(archive: Archive, directory: Path, options: ReadOptions | None = None) -> ImportSummary:
    (step,) = plan("auto", directory)
    return import_logs(
        archive,
        step.format.parse_all(step.root, step.files, options or ReadOptions()),
        source=step.format.source,
        accounts=AccountMapper(archive, [], step.format.title),
    )


def _snapshot(archive: Archive) -> list[tuple[object, ...]]:
    return archive.read_rows(
        "SELECT id, conversation_id, direction, kind, sender, body, sent_at FROM messages ORDER BY id"
    )


# -- Pidgin -----------------------------------------------------------------------------------------


def test_pidgin_html_from_pidgin2adium_learns_the_alias_from_the_colour_and_keeps_the_link() -> None:
    log = _one(DATA / "pidgin" / "p2a-html")
    assert (log.protocol, log.account, log.handle) == ("aim", "jiggerificbug", "aolsystemmsg")
    assert log.kind is ConversationKind.DIRECT
    assert _rows(log) == [
        (
            "AOL System Msg",
            Direction.IN,
            "Your screen name (jiggerificbug) is now signed into AOL(R) Instant Messenger (TM) in 2 locations. "
            "To sign off the other location(s), reply to this message with the number 1. "
            "Click here (http://www.aim.com/password/routing.adp) for more information.",
            datetime(2008, 1, 15, 12, 14, 45, tzinfo=UTC),
            MessageKind.CHAT,
        ),
        ("Gabe B-W", Direction.OUT, "1", datetime(2008, 1, 15, 12, 14, 48, tzinfo=UTC), MessageKind.CHAT),
        (
            "AOL System Msg",
            Direction.IN,
            "Your other AIM sessions have been signed-off.  You are now signed-on from 1 location(s).",
            datetime(2008, 1, 15, 12, 14, 48, tzinfo=UTC),
            MessageKind.CHAT,
        ),
    ]
    assert log.own_names == {"Gabe B-W": "shown in Pidgin's colour for you"}
    assert log.skipped == [] and log.warnings == []


def test_pidgin_text_alias_needs_me_and_the_zone_comes_from_timezone() -> None:
    directory = DATA / "pidgin" / "p2a-text"
    unknown = _one(directory, ReadOptions(zone=NY))
    assert [(e.sender, e.direction) for e in unknown.lines] == [("Gabe B-W", Direction.IN), ("", Direction.IN)]
    assert unknown.own_names == {}
    log = _one(directory, ReadOptions(me=("Gabe B-W",), zone=NY))
    assert (log.account, log.handle) == ("thisisascreenname", "buddy_person")
    assert _rows(log) == [
        (
            "Gabe B-W",
            Direction.OUT,
            "what are you doing tomorrow?",
            datetime(2006, 12, 22, 3, 36, 11, tzinfo=UTC),
            MessageKind.CHAT,
        ),
        ("", Direction.IN, "Leola Farber III logged out.", datetime(2006, 12, 22, 4, 6, 6, tzinfo=UTC), SYSTEM),
    ]
    assert log.own_names == {"Gabe B-W": "given with --me"}


def test_pidgin_auto_reply_is_a_notice_from_the_buddy_without_the_marker() -> None:
    log = _one(DATA / "pidgin" / "cu-autoreply")
    assert _rows(log) == [
        (
            "Alice",
            Direction.IN,
            "I am away from my computer right now.",
            datetime(2006, 7, 4, 19, 36, 9, tzinfo=UTC),
            MessageKind.NOTICE,
        )
    ]


def test_old_upper_case_gaim_markup_images_and_locale_dates(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "jabber" / "me@example.org" / "bob@example.org"
    folder.mkdir(parents=True)
    # the line shapes Gaim 1.x wrote (upper case, no <FONT SIZE>), and a German-locale date after midnight
    (folder / "2006-05-27.235500+0200CEST.html").write_text(
        "<HTML><HEAD><TITLE>Conversation with bob@example.org</TITLE></HEAD><BODY>\n"
        '<FONT COLOR="#A82F2F" sml="jabber">(23:55:01) <B>Bob:</B></FONT> look <IMG SRC="file:///C:/pics/cat%20photo.png"><BR>\n'
        '<FONT COLOR="#16569E" sml="jabber">(28.05.2006 00:01:00) <B>Ich:</B></FONT> <A HREF="https://example.org/x">nice</A><BR>\n'
        '<FONT COLOR="#A82F2F" sml="jabber">(28.05.06 00:02:00) <B>Bob:</B></FONT> <IMG ID="3"><BR>\n'
        "</BODY></HTML>\n",
        encoding="utf-8",
    )
    log = _one(tmp_path)
    assert _rows(log) == [
        ("Bob", Direction.IN, "look [image: cat photo.png]", datetime(2006, 5, 27, 21, 55, 1, tzinfo=UTC), CHAT),
        ("Ich", Direction.OUT, "nice (https://example.org/x)", datetime(2006, 5, 27, 22, 1, tzinfo=UTC), CHAT),
        ("Bob", Direction.IN, "[image: image 3]", datetime(2006, 5, 27, 22, 2, tzinfo=UTC), CHAT),
    ]


def test_two_names_of_the_buddy_are_not_taken_for_the_user(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "jabber" / "me@example.org" / "bob@example.org"
    folder.mkdir(parents=True)
    (folder / "2024-03-01.120000+0000UTC.html").write_text(
        '<font color="#A82F2F"><font size="2">(12:00:05)</font> <b>Bobby:</b></font> hi<br/>\n', encoding="utf-8"
    )
    (folder / "2024-03-02.120000+0000UTC.txt").write_text(
        "(12:00:05) bob@example.org: from my phone\n(12:01:00) Bobby: and from my desk\n", encoding="utf-8"
    )
    text = next(p for p in _logs(tmp_path) if isinstance(p, LogFile) and p.path.endswith(".txt"))
    assert [(e.sender, e.direction) for e in text.lines] == [("bob@example.org", Direction.IN), ("Bobby", Direction.IN)]
    assert text.own_names == {}
    # with no other name known for the buddy, the second speaker of a one-to-one log is the user
    (folder / "2024-03-01.120000+0000UTC.html").unlink()
    (folder / "2024-03-02.120000+0000UTC.txt").write_text(
        "(12:00:05) bob@example.org: hi\n(12:01:00) Ali: hello\n", encoding="utf-8"
    )
    (log,) = [p for p in _logs(tmp_path) if isinstance(p, LogFile)]
    assert [(e.sender, e.direction) for e in log.lines] == [("bob@example.org", Direction.IN), ("Ali", Direction.OUT)]
    assert log.own_names == {"Ali": "the other speaker in the conversation with bob@example.org"}


@pytest.mark.parametrize(
    ("text", "near", "expected"),
    [
        ("28.05.2006", None, date(2006, 5, 28)),
        ("28.05.06", None, date(2006, 5, 28)),
        ("07/29/06", None, date(2006, 7, 29)),
        ("07/29/2006", None, date(2006, 7, 29)),
        ("29/07/2006", None, date(2006, 7, 29)),
        ("2006-07-29", None, date(2006, 7, 29)),
        ("2006/07/29", None, date(2006, 7, 29)),
        ("2006. 07. 29.", None, date(2006, 7, 29)),
        ("29-7-2006", None, date(2006, 7, 29)),
        ("05/06/2006", date(2006, 6, 4), date(2006, 6, 5)),  # day-first fits the log's own day better
        ("05/06/2006", date(2006, 5, 5), date(2006, 5, 6)),
        ("31.02.2006", None, None),
    ],
)
def test_dates_in_every_locale(text: str, near: date | None, expected: date | None) -> None:
    assert parse_date(text, near) == expected


def test_a_clock_reads_locale_times_and_keeps_the_last_good_one() -> None:
    clock = Clock(datetime(2006, 7, 28, 23, 0), ZoneInfo("Europe/Berlin"))
    assert clock.at("11:59:30 PM") == datetime(2006, 7, 28, 21, 59, 30, tzinfo=UTC)
    assert clock.at("07/29/06 12:00:10 a.m.") == datetime(2006, 7, 28, 22, 0, 10, tzinfo=UTC)
    assert clock.at("12:xx") is None
    assert clock.last == datetime(2006, 7, 28, 22, 0, 10, tzinfo=UTC)


def test_unreadable_time_keeps_the_previous_time_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "jabber" / "me@example.org" / "bob@example.org"
    folder.mkdir(parents=True)
    (folder / "2024-03-02.093000+0000UTC.txt").write_text(
        "(09:30:12) bob@example.org: one\n(09:3x:00) bob@example.org: two\n", encoding="utf-8"
    )
    log = _one(tmp_path)
    assert [(e.body, e.sent_at) for e in log.lines] == [
        ("one", datetime(2024, 3, 2, 9, 30, 12, tzinfo=UTC)),
        ("two", datetime(2024, 3, 2, 9, 30, 12, tzinfo=UTC)),
    ]
    assert [str(w) for w in log.warnings] == [
        "jabber/me@example.org/bob@example.org/2024-03-02.093000+0000UTC.txt:2: "
        "unreadable time (09:3x:00): kept the previous line's time"
    ]


# -- encodings --------------------------------------------------------------------------------------


def test_windows_1252_and_one_stray_byte_spoil_nothing_else() -> None:
    cp = decode("“quoted” costs 5 €\n".encode("cp1252"))
    assert (cp.text, cp.how) == ("“quoted” costs 5 €\n", "Windows-1252")
    mixed = decode("café crème\n".encode() + b"stray \xe9 byte\n" + "naïve\n".encode())
    assert mixed.text == "café crème\nstray é byte\nnaïve\n"
    assert mixed.how == "UTF-8, 1 line Windows-1252"
    declared = decode(b'<meta content="text/html; charset=ISO-8859-2">\n\xb1\n')
    assert declared.text.endswith("ą\n") and declared.how == "ISO8859-2 (declared)"


# -- Trillian ---------------------------------------------------------------------------------------


def test_trillian_xml_from_qronicle_with_status_lines_and_its_log_twin_skipped() -> None:
    parsed = _logs(DATA / "trillian" / "qronicle")
    skipped = sorted(str(p) for p in parsed if isinstance(p, Skipped))
    assert skipped == [
        "ICQ/Query/192780216-assets.xml: a list of buddy icons (-assets.xml), not a conversation",
        "ICQ/Query/192780216.log: the same conversations are in 192780216.xml, which was read instead",
    ]
    (log,) = [p for p in parsed if isinstance(p, LogFile)]
    assert (log.protocol, log.account, log.handle) == ("icq", "192880392", "192780216")
    status = MessageKind.SYSTEM
    assert _rows(log) == [
        ("Barade", Direction.OUT, "niöx", datetime(2006, 3, 23, 15, 33, 41, tzinfo=UTC), MessageKind.CHAT),
        ("192780216", Direction.IN, "schade", datetime(2006, 3, 23, 15, 33, 53, tzinfo=UTC), MessageKind.CHAT),
        ("", Direction.IN, "192780216 is now away", datetime(2006, 3, 15, 17, 37, 5, tzinfo=UTC), status),
        ("", Direction.IN, "192780216 is now not available", datetime(2006, 3, 15, 17, 37, 5, tzinfo=UTC), status),
        ("", Direction.IN, "192780216 is now online", datetime(2006, 3, 15, 18, 28, 43, tzinfo=UTC), status),
        ("", Direction.IN, "192780216 is now offline", datetime(2006, 3, 15, 18, 28, 43, tzinfo=UTC), status),
        (
            "",
            Direction.IN,
            "Wed Mar 15 18:45:04 2006 - Hans ist nun Offline.",
            datetime(2006, 3, 15, 18, 28, 43, tzinfo=UTC),
            status,
        ),
        ("192880392", Direction.OUT, "[file: Intro.bmp]", datetime(2006, 3, 10, 12, 47, 9, tzinfo=UTC), CHAT),
    ]
    assert log.own_names == {"Barade": "Trillian's outgoing messages"}


def test_trillian_xml_from_chat_unifier_me_alias_and_percent_encoded_names() -> None:
    logs = {p.handle: p for p in _logs(DATA / "trillian" / "chat_unifier") if isinstance(p, LogFile)}
    assert sorted(logs) == ["AOL System Msg", "RemoteBuddy123"]
    aol = logs["AOL System Msg"]
    assert aol.account == "t-johndoe@example.com"
    for log, buddy in ((aol, "AOL System Msg"), (logs["RemoteBuddy123"], "RemoteBuddy123")):
        assert _rows(log) == [
            (buddy, Direction.IN, "what's up", datetime(2005, 11, 20, 20, 7, 57, tzinfo=UTC), MessageKind.CHAT),
            ("Me", Direction.OUT, "nm", datetime(2005, 11, 20, 21, 35, 24, tzinfo=UTC), MessageKind.CHAT),
        ]


def test_early_trillian_log_without_times_in_windows_1252() -> None:
    log = _one(DATA / "trillian" / "early", ReadOptions(zone=NY))
    start = datetime(2003, 1, 6, 2, 43, 2, tzinfo=UTC)
    assert (log.account, log.handle, log.encoding) == ("LocalUser123", "RemoteBuddy456", "Windows-1252")
    assert log.own_names == {}  # the screen name itself is not news
    assert _rows(log) == [
        ("LocalUser123", Direction.OUT, "are you there?", start, MessageKind.CHAT),
        ("RemoteBuddy456", Direction.IN, "yes \u2013 \u20ac5 for the caf\u00e9", start, MessageKind.CHAT),
        ("RemoteBuddy456", Direction.IN, "waves", start, MessageKind.ACTION),
        ("", Direction.IN, "RemoteBuddy456 has signed off.", start, MessageKind.SYSTEM),
    ]


# -- into the archive -------------------------------------------------------------------------------


def test_status_lines_are_their_own_kind_and_searchable(archive: Archive) -> None:
    summary = _store(archive, DATA / "trillian" / "qronicle")
    assert (summary.inserted, summary.status_lines) == (8, 5)
    assert summary.own_names == {"Barade": "Trillian's outgoing messages"}
    hits = SearchService(archive).search("Offline")
    assert {(h.message.kind, h.message.body) for h in hits} == {
        (MessageKind.SYSTEM, "192780216 is now offline"),
        (MessageKind.SYSTEM, "Wed Mar 15 18:45:04 2006 - Hans ist nun Offline."),
    }


def test_a_crashed_import_resumes_without_doubles(archive: Archive) -> None:
    directory = DATA / "trillian" / "qronicle"
    (step,) = plan("trillian", directory)

    def crashing() -> Iterator[LogFile | Skipped]:
        for item in step.format.parse_all(step.root, step.files, ReadOptions()):
            if isinstance(item, LogFile):
                item.lines = item.lines[:3]  # the first batch reaches the disk ...
                yield item
                raise OSError("power cut")  # ... then the process dies
            yield item

    with pytest.raises(OSError, match="power cut"):
        import_logs(archive, crashing(), source="trillian", accounts=AccountMapper(archive, [], "T"), batch_size=2)
    partial = archive.count_messages()
    assert 0 < partial < 8
    again = _store(archive, directory)
    assert (again.inserted, again.duplicates) == (8 - partial, partial)
    assert archive.count_messages() == 8
    third = _store(archive, directory)
    assert (third.inserted, third.duplicates) == (0, 8)


def test_a_truncated_html_file_warns_and_leaves_no_tag_debris(archive: Archive, tmp_path: Path) -> None:
    source = DATA / "pidgin" / "p2a-html"
    _store(archive, source)
    before = _snapshot(archive)
    damaged = tmp_path / "damaged"
    shutil.copytree(source, damaged)
    (path,) = damaged.rglob("*.html")
    text = path.read_text(encoding="utf-8")
    cut = text.index("signed-on from") + len("signed-on")
    path.write_text(text[:cut] + " <i>from</i> <span sty", encoding="utf-8")  # the disk filled up mid-line
    log = _one(damaged)
    assert log.lines[-1].body == "Your other AIM sessions have been signed-off.  You are now signed-on from"
    assert [w.reason for w in log.warnings] == [
        "the file ends inside this line (truncated?): kept the text before the cut"
    ]
    summary = _store(archive, damaged)
    assert summary.inserted == 1 and summary.duplicates == 2  # the cut line differs: stored beside, nothing changed
    assert _snapshot(archive)[: len(before)] == before


def test_damaged_inputs_warn_or_refuse_and_change_nothing(archive: Archive, tmp_path: Path) -> None:
    _store(archive, DATA / "trillian" / "qronicle")
    before = _snapshot(archive)
    medium = tmp_path / "trillian" / "logs" / "ICQ" / "Query"
    medium.mkdir(parents=True)
    (medium / "binary.xml").write_bytes(b"<session \x00\x01\x02" * 10)
    (medium / "empty.xml").write_bytes(b"")
    (medium / "clock.xml").write_text(
        '<session type="start" time="1142447323" medium="ICQ" to="1" from="2"/>\n'
        '<message type="incoming_privateMessage" time="1142447323" medium="ICQ" from="1" text="a"/>\n'
        '<message type="incoming_privateMessage" time="11424x" medium="ICQ" from="1" text="b"/>\n',
        encoding="utf-8",
    )
    (medium / "cut.xml").write_text(
        '<session type="start" time="1142447323" medium="ICQ" to="1" from="2"/>\n<message type="incom', encoding="utf-8"
    )
    parsed = {p.path if isinstance(p, LogFile) else p.file: p for p in _logs(tmp_path / "trillian", name="trillian")}
    assert str(parsed["ICQ/Query/binary.xml"]) == "ICQ/Query/binary.xml: a binary file, not a log"
    assert str(parsed["ICQ/Query/empty.xml"]) == "ICQ/Query/empty.xml: an empty file"
    cut = parsed["ICQ/Query/cut.xml"]
    assert isinstance(cut, LogFile) and cut.lines == []
    assert [str(s) for s in cut.skipped] == [
        "ICQ/Query/cut.xml:2: the file ends inside this element (truncated?): not imported"
    ]
    clock = parsed["ICQ/Query/clock.xml"]
    assert isinstance(clock, LogFile)
    assert [(e.body, e.sent_at) for e in clock.lines] == [
        ("a", datetime(2006, 3, 15, 18, 28, 43, tzinfo=UTC)),
        ("b", datetime(2006, 3, 15, 18, 28, 43, tzinfo=UTC)),
    ]
    assert [str(w) for w in clock.warnings] == [
        "ICQ/Query/clock.xml:3: unreadable time (11424x): kept the previous line's time"
    ]
    (medium / "clock.xml").unlink()
    summary = _store(archive, tmp_path / "trillian")
    assert summary.inserted == 0
    assert _snapshot(archive) == before
    with pytest.raises(NothingToImport, match=r"no Pidgin logs under .*: it holds Trillian logs \(aggregator import"):
        plan("pidgin", DATA / "trillian" / "qronicle")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(NothingToImport, match=r"no chat logs found under .*looked for: .*Pidgin, Trillian"):
        plan("auto", tmp_path / "nothing")
    assert _snapshot(archive) == before


def test_a_module_that_follows_the_convention_plugs_in_without_a_format_object(tmp_path: Path) -> None:
    seen: list[dict[str, object]] = []
    module = types.ModuleType("aggregator.archive.importers.example")
    module.SOURCE, module.TITLE, module.DESCRIPTION = "example", "Example", "one line"  # type: ignore[attr-defined]
    module.detect = lambda directory: True  # type: ignore[attr-defined]
    module.read = lambda directory: (directory, [])  # type: ignore[attr-defined]

    def parse_all(root: Path, files: list[Path], *, me: tuple[str, ...] = ()) -> Iterator[LogFile | Skipped]:
        seen.append({"me": me})
        return iter(())

    module.parse_all = parse_all  # type: ignore[attr-defined]
    fmt = _by_convention(module)
    assert fmt is not None and (fmt.name, fmt.title, fmt.source) == ("example", "Example", "example")
    assert list(fmt.parse(tmp_path, [], ["Me"], NY)) == []
    assert seen == [{"me": ("Me",)}]  # the zone it does not take is not passed


def test_the_registry_lists_and_recognises_formats() -> None:
    known = formats()
    assert {"pidgin", "trillian"} <= set(known) and known == FORMATS
    assert all(f.description and f.title for f in known.values())
    assert [f.name for f in recognise(DATA / "pidgin" / "p2a-html")] == ["pidgin"]
    assert [f.name for f in recognise(DATA / "trillian" / "early")] == ["trillian"]


# -- the right person -------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[RosterWorld]:
    yield from world_at(tmp_path)


def test_imported_history_joins_the_contact_and_the_persons_timeline(world: RosterWorld, tmp_path: Path) -> None:
    assert world.archive is not None and world.roster is not None
    world.snapshot(XMPP, ("bob@example.org", "Bob"))
    world.message(XMPP, "bob@example.org", "new hello", 1)
    logs = tmp_path / "trillian" / "logs" / "JABBER" / "Query"
    logs.mkdir(parents=True)
    (logs / "Bob@Example.org.xml").write_text(
        '<session type="start" time="1132517277" medium="JABBER" to="Bob%40Example%2Eorg%2FHome" '
        'from="me%40example%2Eorg"/>\n'
        '<message type="incoming_privateMessage" time="1132517277" medium="JABBER" to="me%40example%2Eorg" '
        'from="Bob%40Example%2Eorg%2FHome" from_display="Bob" text="old%20hello"/>\n',
        encoding="utf-8",
    )
    (step,) = plan("auto", tmp_path / "trillian")
    summary = import_logs(
        world.archive,
        step.format.parse_all(step.root, step.files, ReadOptions()),
        source="trillian",
        accounts=AccountMapper(world.archive, [KnownAccount(XMPP, "xmpp", "me@example.org")], "Trillian"),
    )
    assert summary.accounts_created == []
    assert summary.joined_contacts == {("Bob@Example.org/Home", "bob@example.org")}
    person = world.roster.directory.person_of(ContactRef(XMPP, "bob@example.org"))
    assert person is not None
    assert [m.body for m in world.roster.history(person.id)] == ["old hello", "new hello"]


def test_naming_the_alias_later_marks_the_earlier_import_outgoing(archive: Archive) -> None:
    directory = DATA / "pidgin" / "p2a-text"
    (step,) = plan("pidgin", directory)

    def run(options: ReadOptions) -> ImportSummary:
        return import_logs(
            archive,
            step.format.parse_all(step.root, step.files, options),
            source="pidgin",
            accounts=AccountMapper(archive, [], "Pidgin"),
            correct_directions=bool(options.me),
        )

    assert run(ReadOptions(zone=NY)).inserted == 2
    again = run(ReadOptions(me=("Gabe B-W",), zone=NY))
    assert (again.inserted, again.duplicates, again.corrected) == (0, 2, 1)
    rows = archive.read_rows("SELECT direction, state, sender, sender_name, body FROM messages ORDER BY id")
    assert rows[0] == (int(Direction.OUT), 2, "thisisascreenname", "Gabe B-W", "what are you doing tomorrow?")
    assert rows[1][0] == int(Direction.IN)
    assert run(ReadOptions(me=("Gabe B-W",), zone=NY)).corrected == 0
