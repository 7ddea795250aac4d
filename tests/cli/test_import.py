"""``aggregator import pidgin|trillian DIR`` as a subprocess (no keyring: only the archive is touched)."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
from pathlib import Path

from tests.cli.conftest import AGGREGATOR, run_cli
from tests.conftest import cli_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_pidgin_import_summary_then_nothing_new(tmp_home: Path) -> None:
    first = run_cli(tmp_home, "import", "pidgin", str(FIXTURES / "pidgin"))
    assert first.returncode == 0, first.stderr
    assert "4 files, 15 new messages (0 already in the archive), 3 conversations\n" in first.stdout
    assert "status lines among them (signed on/off, away, ...): 4\n" in first.stdout
    assert (
        "archive-only accounts created (history only, not in accounts.json): aim:alice123, xmpp:alice@example.org"
        in first.stdout
    )
    assert "skipped 2 files:" in first.stdout
    assert ".system/2024-03-01.115959+0100CET.txt: a connection log (.system), not a conversation" in first.stdout
    assert "bob@example.org/notes.txt: the file name is not a Pidgin log name" in first.stdout
    assert "2024-03-01.120000+0100CET.html:7: not a message line" in first.stdout
    assert first.stderr == ""  # not a terminal: no progress bar, and nothing to warn about
    assert not (tmp_home / "config" / "accounts.json").exists()
    again = run_cli(tmp_home, "import", "pidgin", str(FIXTURES / "pidgin" / "logs"))
    assert "0 new messages (15 already in the archive)" in again.stdout, again.stdout
    found = run_cli(tmp_home, "search", "chips", "--json")
    (hit,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["body"] == 'Fish & chips at noon? 5 < 6 "really"'
    assert hit["account"] == "xmpp:alice@example.org" and hit["conversation"] == "bob@example.org"
    assert hit["sent_at"] == "2024-03-01T11:00:05Z" and hit["direction"] == "in"
    room = run_cli(tmp_home, "history", "--with", "team@conference.example.org", "--json")
    assert [json.loads(line)["body"] for line in room.stdout.splitlines()] == [
        "carol entered the room.",
        "standup in five",
        "on my way",
    ]


def test_logs_go_to_the_configured_account(tmp_home: Path) -> None:
    config = tmp_home / "config"
    config.mkdir()
    account = {"id": "xmpp:alice@example.org", "protocol": "xmpp", "address": "alice@example.org", "sphere": "work"}
    (config / "accounts.json").write_text(json.dumps({"version": 1, "accounts": [account]}), encoding="utf-8")
    result = run_cli(tmp_home, "import", "pidgin", str(FIXTURES / "pidgin"))
    assert result.returncode == 0, result.stderr
    assert "archive-only accounts created (history only, not in accounts.json): aim:alice123\n" in result.stdout
    stats = json.loads(run_cli(tmp_home, "stats", "--json").stdout)
    assert stats["accounts"] == {"aim:alice123": 2, "xmpp:alice@example.org": 13}
    assert stats["spheres"] == {"personal": 2, "work": 13}


def test_trillian_import_and_rerun(tmp_home: Path) -> None:
    first = run_cli(tmp_home, "import", "trillian", str(FIXTURES / "trillian"))
    assert first.returncode == 0, first.stderr
    assert "2 files, 9 new messages" in first.stdout
    assert "ICQ/notes.log: no Session Start line" in first.stdout
    assert "ICQ/bob456.log:8: outside a Session Start / Session Close" in first.stdout
    again = run_cli(tmp_home, "import", "trillian", str(FIXTURES / "trillian"))
    assert "0 new messages (9 already in the archive)" in again.stdout


def test_a_progress_bar_only_on_a_terminal(tmp_home: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(FIXTURES / "pidgin" / "logs", logs)
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [str(AGGREGATOR), "import", "pidgin", str(logs)],
            env=cli_env(tmp_home) | {"TZ": "UTC"},
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=60,
            check=False,
        )
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"importing Pidgin logs [" in seen and b"6/6 files, 15 messages (" in seen and b"/s)" in seen


def test_bad_directories(tmp_home: Path, tmp_path: Path) -> None:
    missing = run_cli(tmp_home, "import", "pidgin", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "is not a directory" in missing.stderr
    empty = run_cli(tmp_home, "import", "trillian", str(tmp_path))
    assert empty.returncode == 1 and "no Trillian logs under" in empty.stderr


DATA = Path(__file__).resolve().parents[1] / "data"


def test_help_lists_the_formats_and_auto(tmp_home: Path) -> None:
    result = run_cli(tmp_home, "import", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for word in ("auto", "pidgin", "trillian", "Trillian logs, XML (3/4/5) and .log"):
        assert word in text


def test_auto_recognises_trillian_names_the_users_aliases_and_lists_files_on_v(tmp_home: Path) -> None:
    result = run_cli(tmp_home, "import", "auto", str(DATA / "trillian" / "chat_unifier"), "-v")
    assert result.returncode == 0, result.stderr
    assert "imported Trillian logs from" in result.stdout
    assert "2 files, 4 new messages (0 already in the archive), 2 conversations" in result.stdout
    assert "taken as yours: Me (Trillian's outgoing messages)" in result.stdout
    assert "per file:\n  AIM/Query/AOL System Msg.xml: 2 messages (UTF-8)\n" in result.stdout
    again = run_cli(tmp_home, "import", "auto", str(DATA / "trillian" / "chat_unifier"))
    assert "0 new messages (4 already in the archive)" in again.stdout
    history = run_cli(tmp_home, "history", "--with", "RemoteBuddy123", "--json")
    rows = [json.loads(line) for line in history.stdout.splitlines()]
    assert [(r["direction"], r["body"], r["sent_at"]) for r in rows] == [
        ("in", "what's up", "2005-11-20T20:07:57Z"),
        ("out", "nm", "2005-11-20T21:35:24Z"),
    ]


def test_me_and_timezone_and_encodings_in_the_summary(tmp_home: Path) -> None:
    logs = str(DATA / "pidgin" / "p2a-text")
    text = run_cli(tmp_home, "import", "pidgin", logs, "--me", "Gabe B-W", "--timezone", "America/New_York")
    assert text.returncode == 0, text.stderr
    assert "taken as yours: Gabe B-W (given with --me)" in text.stdout
    found = json.loads(run_cli(tmp_home, "search", "tomorrow", "--json").stdout)
    assert (found["direction"], found["sent_at"]) == ("out", "2006-12-22T03:36:11Z")
    early = run_cli(tmp_home, "import", "trillian", str(DATA / "trillian" / "early"), "--timezone", "UTC")
    assert "decoded as Windows-1252: AIM/RemoteBuddy456.log" in early.stdout
    bad = run_cli(tmp_home, "import", "pidgin", str(DATA / "pidgin" / "p2a-text"), "--timezone", "Mars/Olympus")
    assert bad.returncode == 2 and "unknown time zone 'Mars/Olympus'" in bad.stderr


def test_a_wrong_or_empty_folder_is_a_clear_error(tmp_home: Path, tmp_path: Path) -> None:
    wrong = run_cli(tmp_home, "import", "pidgin", str(DATA / "trillian" / "qronicle"))
    assert wrong.returncode == 1
    assert "it holds Trillian logs (aggregator import trillian DIR)" in wrong.stderr
    empty = run_cli(tmp_home, "import", "auto", str(tmp_path))
    assert empty.returncode == 1 and "no chat logs found under" in empty.stderr


def test_status_lines_read_as_status_lines_in_history(tmp_home: Path) -> None:
    assert run_cli(tmp_home, "import", "trillian", str(DATA / "trillian" / "qronicle")).returncode == 0
    shown = run_cli(tmp_home, "history", "--with", "192780216").stdout.splitlines()
    assert "2006-03-15 17:37:05  -- 192780216 is now away" in shown
    assert "2006-03-23 15:33:41  -> Barade: niöx" in shown
    assert not any("<- :" in line for line in shown)


def test_me_on_a_second_run_marks_the_earlier_import_as_yours(tmp_home: Path) -> None:
    logs = str(DATA / "pidgin" / "p2a-text")
    first = run_cli(tmp_home, "import", "pidgin", logs, "--timezone", "America/New_York")
    assert "2 new messages" in first.stdout and "taken as yours" not in first.stdout
    assert json.loads(run_cli(tmp_home, "search", "tomorrow", "--json").stdout)["direction"] == "in"
    again = run_cli(tmp_home, "import", "pidgin", logs, "--timezone", "America/New_York", "--me", "Gabe B-W")
    assert "0 new messages (2 already in the archive)" in again.stdout
    assert "marked as yours: 1 messages of an earlier import of these logs" in again.stdout
    hit = json.loads(run_cli(tmp_home, "search", "tomorrow", "--json").stdout)
    assert (hit["direction"], hit["body"]) == ("out", "what are you doing tomorrow?")
