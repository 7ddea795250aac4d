"""Adium, Gajim, irssi, WeeChat, HexChat and Element imports, on real published samples (tests/data/README).

Every expected message below was read by hand from the sample file: count, sender, direction, kind,
time in UTC and decoded body.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.api import ConversationKind, MessageKind
from aggregator.archive import Archive, Direction
from aggregator.archive.importers import AccountMapper, LogFile, Skipped, import_logs
from aggregator.archive.importers.formats import FORMATS

DATA = Path(__file__).resolve().parents[1] / "data"
IN, OUT = Direction.IN, Direction.OUT
CHAT, ACTION, NOTICE, SYSTEM = MessageKind.CHAT, MessageKind.ACTION, MessageKind.NOTICE, MessageKind.SYSTEM
Row = tuple[str, str, Direction, MessageKind, str]


@pytest.fixture
def archive(open_archive: Callable[[], Archive]) -> Iterator[Archive]:
    made = open_archive()
    yield made
    made.close()


def parsed(fmt: str, directory: Path, me: tuple[str, ...] = (), zone: str | None = None) -> list[LogFile | Skipped]:
    reader = FORMATS[fmt]
    root, files = reader.read(directory)
    return list(reader.parse(root, files, me, ZoneInfo(zone) if zone else None))


def rows(log: LogFile) -> list[Row]:
    return [
        (e.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), e.sender, e.direction, e.kind, e.body)
        for e in log.lines
    ]


def by_handle(logs: list[LogFile | Skipped]) -> dict[str, LogFile]:
    return {log.handle: log for log in logs if isinstance(log, LogFile)}


def gajim_db(tmp_path: Path, sql: str) -> Path:
    folder = tmp_path / sql.removesuffix(".sql")
    folder.mkdir()
    con = sqlite3.connect(folder / "logs.db")
    con.executescript((DATA / "gajim" / sql).read_text(encoding="utf-8"))
    con.close()
    return folder


def store(
    archive: Archive, fmt: str, directory: Path, me: tuple[str, ...] = (), zone: str | None = None
) -> tuple[int, int]:
    result = import_logs(
        archive,
        iter(parsed(fmt, directory, me, zone)),
        source=fmt,
        accounts=AccountMapper(archive, [], FORMATS[fmt].title),
    )
    return result.inserted, result.duplicates


# --- Adium ---------------------------------------------------------------------------------------------


def test_adium_chatlog_xml_own_messages_from_the_account_and_status_lines() -> None:
    logs = by_handle(parsed("adium", DATA / "adium", zone="America/New_York"))
    aim = next(log for log in logs.values() if log.path.endswith(".chatlog") and log.protocol == "aim")
    assert (aim.account, aim.handle, aim.kind) == ("mysn", "theirscreenname", ConversationKind.DIRECT)
    assert rows(aim) == [
        ("2007-03-25 16:31:28", "theirsn", IN, CHAT, "heeeeeey there"),
        ("2007-03-25 16:31:42", "mysn", OUT, CHAT, "hey"),
        ("2007-03-25 16:31:44", "mysn", OUT, CHAT, "how are you?"),
        ("2007-03-25 16:31:49", "theirsn", IN, CHAT, "wazuuup?"),
        ("2007-03-25 16:31:52", "mysn", OUT, CHAT, "i haven't talked to you in forever"),
        ("2007-03-25 16:31:56", "theirsn", IN, CHAT, "lol you still alive and kickin'?"),
        ("2007-03-25 18:26:24", "mysn", OUT, CHAT, "ttyl"),
        ("2007-03-25 18:26:26", "theirsn", IN, CHAT, "seeya"),
        ("2007-03-25 18:26:30", "", IN, SYSTEM, "theirsn went offline"),
    ]
    assert aim.skipped == []


def test_adium_bundle_xml_with_aliases_entities_line_breaks_and_statuses() -> None:
    logs = by_handle(parsed("adium", DATA / "adium"))
    dest = logs["dest@gmail.com"]
    assert (dest.protocol, dest.account, dest.kind) == ("xmpp", "source@gmail.com", ConversationKind.DIRECT)
    assert rows(dest)[:6] == [
        ("2011-12-09 09:13:43", "Source", OUT, CHAT, "regular message"),
        ("2011-12-09 09:24:01", "Dest", IN, CHAT, "regular message"),
        ("2011-12-09 09:24:11", "Source", OUT, CHAT, "char>message\u00f7"),
        ("2011-12-09 09:24:18", "Source", OUT, CHAT, "multiline\nmessage"),
        ("2011-12-09 09:24:03", "Dest", IN, CHAT, "delayed message dest"),
        ("2011-12-09 09:24:04", "Source", OUT, CHAT, "delayed message source"),
    ]
    statuses = [(t, body) for t, _s, _d, kind, body in rows(dest) if kind is SYSTEM]
    assert statuses[:4] == [
        ("2011-12-10 02:08:24", "Dest is away"),
        ("2011-12-10 02:09:24", "Dest is online"),
        ("2011-12-10 02:10:24", "You have disconnected"),
        ("2011-12-10 02:11:24", "You have connected"),
    ]
    assert ("2011-12-10 02:13:00", "Dest is away: I'm not here right now>") in statuses
    assert len(statuses) == 13 and len(dest.lines) == 20
    assert ("2011-12-10 09:16:05", "Dest", IN, CHAT, "this is an autoreply") in rows(dest)
    room = logs["private-chat-00000000-0000-0000-0000-000000000000@groupchat.google.com"]
    assert room.kind is ConversationKind.ROOM
    assert rows(room) == [
        ("2011-08-21 03:59:21", "", IN, SYSTEM, "A_gmail.com entered the room."),
        ("2011-08-21 03:59:21", "", IN, SYSTEM, "B_gmail.com entered the room."),
        ("2011-08-21 03:59:25", "A_gmail.com", IN, CHAT, "test"),
        ("2011-08-21 03:59:28", "source", OUT, CHAT, "what"),
        ("2011-08-21 03:59:31", "B_gmail.com", IN, CHAT, "test2"),
    ]


def test_adium_html_log_send_receive_link_target_and_status_times_in_the_given_zone() -> None:
    logs = [log for log in parsed("adium", DATA / "adium", zone="America/New_York") if isinstance(log, LogFile)]
    html = next(log for log in logs if log.path.endswith(".AdiumHTMLLog"))
    assert (html.protocol, html.account, html.handle, html.kind) == (
        "aim",
        "mysn",
        "theirscreenname",
        ConversationKind.DIRECT,
    )
    assert rows(html) == [
        ("2006-09-23 04:01:48", "theirsn", IN, CHAT, "hey"),
        ("2006-09-23 04:01:50", "mysn", OUT, CHAT, "hey"),
        ("2006-09-23 04:02:06", "mysn", OUT, CHAT, "what's up"),
        ("2006-09-23 04:18:01", "mysn", OUT, CHAT, "SA as in http://www.somethingawful.com/ ??"),
        ("2006-09-23 05:46:59", "theirsn", IN, CHAT, "seeya later"),
        (
            "2006-09-24 00:25:45",
            "",
            IN,
            SYSTEM,
            "Away Message: \"Work! I've heard of it but I didn't think you had!\"\n"
            '"Well I had, but I kept getting it mixed up with Nap."\nGilmore Girls quotes',
        ),
        ("2006-09-24 00:25:45", "", IN, SYSTEM, "Away Message: tv then bed"),
        ("2006-09-23 05:47:02", "", IN, SYSTEM, "Jane Doe disconnected"),
    ]


def test_adium_truncated_xml_keeps_what_came_before_and_says_so(tmp_path: Path) -> None:
    source = next((DATA / "adium").rglob("theirscreenname (2007-03-25T12.31.28-0400).chatlog"))
    target = tmp_path / "Logs" / "AIM.mysn" / "theirscreenname" / source.name
    target.parent.mkdir(parents=True)
    raw = source.read_bytes()
    target.write_bytes(raw[: raw.index(b"wazuuup") + 3])  # cut in the middle of the 4th message
    (log,) = parsed("adium", tmp_path)
    assert isinstance(log, LogFile)
    assert [body for *_rest, body in rows(log)] == ["heeeeeey there", "hey", "how are you?"]
    assert len(log.skipped) == 1 and "damaged XML at line" in log.skipped[0].reason


# --- Gajim ---------------------------------------------------------------------------------------------

GAJIM_DIRECT: list[Row] = [
    ("2011-12-09 09:13:43", "source@gmail.com", OUT, CHAT, "regular message"),
    ("2011-12-09 09:24:01", "dest@gmail.com", IN, CHAT, "regular message"),
    ("2011-12-09 09:24:11", "source@gmail.com", OUT, CHAT, "char>message\u00f7"),
    ("2011-12-09 09:24:18", "source@gmail.com", OUT, CHAT, "multiline\nmessage"),
]
GAJIM_ROOM: list[Row] = [
    ("2011-08-21 03:59:25", "A_gmail.com", IN, CHAT, "test"),
    ("2011-08-21 03:59:28", "source", OUT, CHAT, "what"),
    ("2011-08-21 03:59:31", "B_gmail.com", IN, CHAT, "test2"),
]
ROOM_JID = "private-chat-00000000-0000-0000-0000-000000000000@groupchat.google.com"


@pytest.mark.parametrize("sql", ["gajim-0.16.sql", "gajim-1.x.sql"])
def test_gajim_old_schema_kinds_directions_status_and_rooms(tmp_path: Path, sql: str) -> None:
    folder = gajim_db(tmp_path, sql)
    assert FORMATS["gajim"].detect(folder)
    me = ("source@gmail.com",) if sql == "gajim-0.16.sql" else ()  # 0.16 does not store the account
    logs = by_handle(parsed("gajim", folder, me))
    direct, room = logs["dest@gmail.com"], logs[ROOM_JID]
    assert (direct.protocol, direct.account, direct.kind) == ("xmpp", "source@gmail.com", ConversationKind.DIRECT)
    assert rows(direct) == [
        *GAJIM_DIRECT,
        ("2011-12-10 02:13:00", "", IN, SYSTEM, "dest@gmail.com is now away: I'm not here right now>"),
    ]
    assert [(s.line, s.reason) for s in direct.skipped] == [(9, "an empty message")]
    assert room.kind is ConversationKind.ROOM and rows(room) == GAJIM_ROOM


def test_gajim_current_schema_corrections_files_and_moderation(tmp_path: Path) -> None:
    folder = gajim_db(tmp_path, "gajim-2.x.sql")
    assert FORMATS["gajim"].detect(folder)
    logs = by_handle(parsed("gajim", folder))
    direct, room = logs["dest@gmail.com"], logs[ROOM_JID]
    assert rows(direct) == [
        *GAJIM_DIRECT,
        ("2011-12-10 09:16:05", "dest@gmail.com", IN, CHAT, "[file: https://example.org/upload/photo.jpg]"),
    ]
    assert rows(room) == GAJIM_ROOM[:2]
    assert [(s.line, s.reason) for s in room.skipped] == [(9, "retracted by a moderator")]


def test_gajim_a_damaged_database_is_a_clear_skip(tmp_path: Path) -> None:
    folder = tmp_path / "gajim"
    folder.mkdir()
    (folder / "logs.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert not FORMATS["gajim"].detect(folder)
    (skip,) = parsed("gajim", folder)
    assert isinstance(skip, Skipped) and skip.reason.startswith("not a Gajim history database")


# --- irssi ---------------------------------------------------------------------------------------------


def test_irssi_channel_with_me_day_change_and_system_lines() -> None:
    (log,) = parsed("irssi", DATA / "irssi", ("Myself",), "UTC")
    assert isinstance(log, LogFile)
    assert (log.protocol, log.account, log.handle, log.kind) == ("irc", "Myself", "#letstalk", ConversationKind.ROOM)
    got = rows(log)
    assert len(got) == 28  # what whatyousay's own test counts for this file
    assert got[0] == ("2010-01-06 13:15:00", "", IN, SYSTEM, "auser [~a.user@192.168.4.5] has joined #letstalk")
    assert got[1] == (
        "2010-01-06 14:14:00",
        "",
        IN,
        SYSTEM,
        "HeyThere [~heythere@some-server.net] has quit [Quit: The rat the cat the dog bit chased escaped]",
    )
    assert sum(1 for r in got if r[3] is SYSTEM) == 14
    assert got[14:18] == [
        ("2010-01-06 16:19:00", "Myself", OUT, CHAT, "yo foo"),
        ("2010-01-06 16:19:00", "foo", IN, CHAT, "yo myself"),
        ("2010-01-06 16:19:00", "foo", IN, CHAT, "how's it going?"),
        ("2010-01-06 16:22:00", "Myself", OUT, CHAT, "a multitude of times more boring than expected"),
    ]
    assert got[-2:] == [
        ("2010-01-07 00:00:00", "Observer", IN, CHAT, "been as high as 15% the past month"),
        ("2010-01-07 00:00:00", "Someone", IN, CHAT, "fudgeing madness"),
    ]
    assert sum(1 for r in got if r[2] is OUT) == 6
    assert log.skipped == []


def test_irssi_without_me_nothing_is_outgoing_and_a_query_learns_the_own_nick(tmp_path: Path) -> None:
    (log,) = parsed("irssi", DATA / "irssi", (), "UTC")
    assert isinstance(log, LogFile) and all(e.direction is IN for e in log.lines)
    query = tmp_path / "irclogs" / "example" / "foo.log"
    query.parent.mkdir(parents=True)
    lines = (DATA / "irssi" / "irclogs" / "example" / "#letstalk.log").read_text(encoding="utf-8").splitlines()
    query.write_text("\n".join([lines[0], lines[15], lines[16], "16:20 < foo> \x02bold\x02 \x0304red\x03 text"]))
    (q,) = parsed("irssi", tmp_path, (), "UTC")
    assert isinstance(q, LogFile) and q.kind is ConversationKind.DIRECT and q.account == "Myself"
    assert [(e.sender, e.direction, e.body) for e in q.lines] == [
        ("Myself", OUT, "yo foo"),
        ("foo", IN, "yo myself"),
        ("foo", IN, "bold red text"),
    ]


# --- WeeChat -------------------------------------------------------------------------------------------


def test_weechat_lines_kinds_and_times_in_the_logs_zone() -> None:
    # The upstream test (misterhat/weechat-log) expects these UTC instants for a log written in US Central time.
    (log,) = parsed("weechat", DATA / "weechat", (), "America/Chicago")
    assert isinstance(log, LogFile)
    assert (log.protocol, log.account, log.handle, log.kind) == ("irc", "rizon", "#ghetty", ConversationKind.ROOM)
    assert rows(log) == [
        ("2016-10-19 03:56:37", "bedroom_eyes", IN, ACTION, "cries"),
        ("2016-11-22 09:09:33", "Jamal_Jones", IN, CHAT, "i dont like bean peer pressured"),
        (
            "2016-11-16 21:22:24",
            "",
            IN,
            SYSTEM,
            "rubywoo (~woo@Rizon-B514316E.pools.spcsdns.net) has quit (Read error: Connection reset by peer)",
        ),
        (
            "2016-11-10 17:56:03",
            "",
            IN,
            SYSTEM,
            "Browsing (~browsing@Rizon-E0C58680.lightspeed.okcbok.sbcglobal.net) has joined #ghetty",
        ),
        ("2016-11-05 00:58:26", "", IN, SYSTEM, "Mode #trollhour [-q marley] by Sexy"),
        ("2016-11-22 02:38:31", "", IN, SYSTEM, "hikiraka has kicked gnu (rejoin, friend)"),
        ("2016-11-22 02:38:31", "", IN, SYSTEM, "hikiraka has kicked gnu"),
        ("2016-11-23 20:46:15", "", IN, SYSTEM, "underdoge (~echapa@my.dude) has left #ghetty"),
        ("2016-11-23 20:46:15", "", IN, SYSTEM, "underdoge (~echapa@my.dude) has left #ghetty (WeeChat 1.5)"),
        ("2016-11-26 15:41:41", "", IN, SYSTEM, 'Topic for #pigeonhole is "spread the word"'),
        ("2016-10-08 06:43:45", "", IN, SYSTEM, "Channel #ghetty: 35 nicks (2 ops, 0 halfops, 1 voice, 32 normals)"),
        (
            "2016-11-02 23:27:18",
            "",
            IN,
            SYSTEM,
            'vegetable has changed topic for #weblove to "Uh-ah-oh we need some help from above"',
        ),
        (
            "2016-11-11 23:09:06",
            "",
            IN,
            SYSTEM,
            'goku has changed topic for #weblove from "Uh-ah-oh we need some help from above" to '
            '"Now offering complimentary therapy dogs"',
        ),
        ("2016-10-08 06:43:53", "", IN, SYSTEM, "Channel created on Thu, 07 Jan 2016 02:45:47"),
    ]


def test_weechat_tab_separated_query_with_me_and_a_binary_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "irc.rizon.Jamal_Jones.weechatlog").write_text(
        "2016-11-22 03:09:33\tJamal_Jones\ti dont like bean peer pressured\n"
        "2016-11-22 03:10:00\t@me\t\x1fsure\x1f\n"
        "2016-11-22 03:10:05\t *\tme shrugs\n",
        encoding="utf-8",
    )
    (logs / "irc.rizon.#bin.weechatlog").write_bytes(b"\x00\x01\x02binary")
    (logs / "irc.server.rizon.weechatlog").write_text("2016-11-22 03:09:33\t--\tconnected\n", encoding="utf-8")
    got = parsed("weechat", tmp_path, ("me",), "UTC")
    skipped = sorted(str(s) for s in got if isinstance(s, Skipped))
    assert skipped == [
        "irc.rizon.#bin.weechatlog: a binary file, not a WeeChat log",
        "irc.server.rizon.weechatlog: not an IRC channel or query buffer (irc.<server>.<name>.weechatlog)",
    ]
    (query,) = [log for log in got if isinstance(log, LogFile)]
    assert query.kind is ConversationKind.DIRECT and query.account == "me"
    assert [(e.sender, e.direction, e.kind, e.body) for e in query.lines] == [
        ("Jamal_Jones", IN, CHAT, "i dont like bean peer pressured"),
        ("me", OUT, CHAT, "sure"),
        ("me", OUT, ACTION, "shrugs"),
    ]


# --- HexChat -------------------------------------------------------------------------------------------


def test_hexchat_xchat_log_sessions_locales_and_a_bad_clock() -> None:
    (log,) = parsed("hexchat", DATA / "hexchat", (), "Europe/Rome")
    assert isinstance(log, LogFile)
    assert (log.protocol, log.account, log.handle, log.kind) == ("irc", "NETWORK", "#gugle", ConversationKind.ROOM)
    assert rows(log) == [
        ("2011-12-31 20:11:55", "", IN, SYSTEM, "You are now talking on #gugle"),
        ("2011-12-31 20:11:55", "", IN, SYSTEM, "Topic for #gugle is plaso, a difficult word"),
        ("2011-12-31 20:11:55", "", IN, SYSTEM, "Topic for #gugle set by Kristinn"),
        ("2011-12-31 20:11:55", "", IN, SYSTEM, "Joachim gives voice to fpi"),
        ("2011-12-31 20:11:55", "XChat", IN, ACTION, "here"),
        ("2011-12-31 20:11:58", "fpi", IN, CHAT, "ola plas-ing guys!"),
        ("2011-12-31 22:00:00", "STRANGER", IN, CHAT, "\u65e5\u672c"),
        ("2011-12-31 22:00:00", "fpi", IN, CHAT, "uh oh wronggg date!"),  # 39:95:90: the previous time
        ("2012-02-26 18:52:51", "", IN, SYSTEM, "ST=Mosca"),
        ("2012-02-26 18:53:01", "fpi", IN, CHAT, "ciao plaso! Com'\u00e8?!"),
        ("2012-02-26 18:54:00", "Kristinn", IN, CHAT, "ftw (it :p)?"),
    ]
    assert [(s.line, s.reason) for s in log.skipped] == [
        (10, "unreadable time (dec 31 39:95:90): kept with the previous time"),
        (19, "an empty message"),
    ]


def test_hexchat_tab_format_own_nick_change_and_new_year(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "Libera" / "#chan.log"
    path.parent.mkdir(parents=True)
    path.write_text(
        "**** BEGIN LOGGING AT Sat Dec 31 23:59:00 2022\n"
        "Dec 31 23:59:30 *\tYou are now known as udo\n"
        "Dec 31 23:59:59 <udo>\thappy new year\n"
        "Jan 01 00:00:01 <Duo>\tto you too\n",
        encoding="utf-8",
    )
    (log,) = parsed("hexchat", tmp_path, (), "UTC")
    assert isinstance(log, LogFile) and log.account == "udo"
    assert rows(log) == [
        ("2022-12-31 23:59:30", "", IN, SYSTEM, "You are now known as udo"),
        ("2022-12-31 23:59:59", "udo", OUT, CHAT, "happy new year"),
        ("2023-01-01 00:00:01", "Duo", IN, CHAT, "to you too"),
    ]


# --- Element -------------------------------------------------------------------------------------------


def test_element_export_kinds_edits_files_redactions_and_own_messages() -> None:
    (log,) = parsed("element", DATA / "element")
    assert isinstance(log, LogFile)
    assert (log.protocol, log.account, log.handle, log.kind) == (
        "matrix",
        "@example:example.org",
        "!jEsUZKDJdhlrceRyVU:example.org",
        ConversationKind.ROOM,
    )
    assert rows(log) == [
        ("2015-05-27 14:10:24", "", IN, SYSTEM, "@alice:example.org joined"),
        ("2015-05-27 14:11:24", "@example:example.org", OUT, CHAT, "This is an example text message"),
        ("2015-05-27 14:12:24", "@alice:example.org", IN, ACTION, "thinks this is an example emote"),
        ("2015-05-27 14:13:24", "@alice:example.org", IN, NOTICE, "This is an example notice"),
        ("2015-05-27 14:14:24", "@example:example.org", OUT, CHAT, "Hello! My name is bar"),
        ("2015-05-27 14:16:24", "@alice:example.org", IN, CHAT, "[file: something-important.doc]"),
        ("2015-05-27 14:17:24", "@alice:example.org", IN, CHAT, "[image: filename.jpg]"),
        ("2015-05-27 14:20:24", "", IN, SYSTEM, "@alice:example.org changed the topic to: A room topic"),
    ]
    assert [(s.line, s.reason) for s in log.skipped] == [(9, "redacted (reason: Spamming)")]


def test_element_truncated_export_is_a_clear_skip(tmp_path: Path) -> None:
    source = next((DATA / "element").glob("*.json"))
    raw = source.read_bytes()
    (tmp_path / source.name).write_bytes(raw[: len(raw) // 2])
    root, files = FORMATS["element"].read(tmp_path)
    (skip,) = FORMATS["element"].parse(root, files, (), None)
    assert isinstance(skip, Skipped) and skip.reason.startswith("not valid JSON (truncated or damaged?)")


# --- all formats: detection, idempotence, damage never changes what is stored ---------------------------


def _folders(tmp_path: Path) -> dict[str, tuple[Path, tuple[str, ...], str | None]]:
    return {
        "adium": (DATA / "adium", (), "America/New_York"),
        "gajim": (gajim_db(tmp_path, "gajim-2.x.sql"), (), None),
        "irssi": (DATA / "irssi", ("Myself",), "UTC"),
        "weechat": (DATA / "weechat", (), "America/Chicago"),
        "hexchat": (DATA / "hexchat", (), "Europe/Rome"),
        "element": (DATA / "element", (), None),
    }


def test_each_format_recognises_its_own_folder_and_no_other(tmp_path: Path) -> None:
    folders = _folders(tmp_path)
    for name, (folder, _me, _zone) in folders.items():
        recognised = [fmt for fmt, reader in FORMATS.items() if reader.detect(folder)]
        assert recognised == [name], (name, recognised)
    empty = tmp_path / "empty"
    empty.mkdir()
    fixtures = DATA.parent / "fixtures"
    assert [fmt for fmt, reader in FORMATS.items() if reader.detect(empty)] == []
    for own in ("pidgin", "trillian"):
        assert [fmt for fmt, reader in FORMATS.items() if reader.detect(fixtures / own)] == [own]


EXPECTED = {"adium": 42, "gajim": 7, "irssi": 28, "weechat": 14, "hexchat": 11, "element": 8}


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_import_stores_every_line_once_and_a_rerun_adds_nothing(archive: Archive, tmp_path: Path, fmt: str) -> None:
    folder, me, zone = _folders(tmp_path)[fmt]
    assert store(archive, fmt, folder, me, zone) == (EXPECTED[fmt], 0)
    assert store(archive, fmt, folder, me, zone) == (0, EXPECTED[fmt])
    assert archive.count_messages() == EXPECTED[fmt]
    kinds = archive.read_rows("SELECT kind, count(*) FROM messages GROUP BY kind ORDER BY kind")
    assert all(count > 0 for _kind, count in kinds)


def test_damaged_copies_add_nothing_and_change_nothing(archive: Archive, tmp_path: Path) -> None:
    store(archive, "irssi", DATA / "irssi", ("Myself",), "UTC")
    before = archive.read_rows("SELECT id, body, sent_at, direction FROM messages ORDER BY id")
    broken = tmp_path / "broken"
    shutil.copytree(DATA / "irssi", broken)
    path = next(broken.rglob("*.log"))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] + b"\xff\xfe garbage \x00")
    result = import_logs(
        archive,
        iter(parsed("irssi", broken, ("Myself",), "UTC")),
        source="irssi",
        accounts=AccountMapper(archive, [], "irssi"),
    )
    assert result.inserted == 0 and [s.reason for s in result.skipped_files] == ["a binary file, not an irssi log"]
    assert archive.read_rows("SELECT id, body, sent_at, direction FROM messages ORDER BY id") == before


def test_adium_truncated_html_log_keeps_whole_lines_and_warns(tmp_path: Path) -> None:
    source = next((DATA / "adium").rglob("*.AdiumHTMLLog"))
    target = tmp_path / "Logs" / "AIM.mysn" / "theirscreenname" / source.name
    target.parent.mkdir(parents=True)
    text = source.read_text(encoding="utf-8")
    target.write_text(text[: text.index("what's up") + 4], encoding="utf-8")
    (log,) = parsed("adium", tmp_path, (), "UTC")
    assert isinstance(log, LogFile)
    assert [(e.sender, e.body) for e in log.lines] == [("theirsn", "hey"), ("mysn", "hey")]
    assert [(s.line, s.reason) for s in log.skipped] == [(3, "an incomplete last line (truncated file?)")]


def test_gajim_016_without_me_keeps_the_history_under_a_placeholder_account(tmp_path: Path) -> None:
    logs = by_handle(parsed("gajim", gajim_db(tmp_path, "gajim-0.16.sql")))
    assert logs["dest@gmail.com"].account == "gajim-account"
    assert [e.direction for e in logs["dest@gmail.com"].lines[:4]] == [OUT, IN, OUT, OUT]
