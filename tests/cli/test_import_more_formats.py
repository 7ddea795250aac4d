"""``aggregator import adium|gajim|irssi|weechat|hexchat|element DIR`` as a subprocess, on the real samples."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.conftest import run_cli

DATA = Path(__file__).resolve().parents[1] / "data"


def history(home: Path, handle: str) -> list[dict[str, str]]:
    result = run_cli(home, "history", "--with", handle, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_help_lists_the_new_formats(tmp_home: Path) -> None:
    result = run_cli(tmp_home, "import", "--help")
    for name in ("adium", "gajim", "irssi", "weechat", "hexchat", "element"):
        assert f"    {name} " in result.stdout, result.stdout


def test_irssi_channel_with_me_then_nothing_new(tmp_home: Path) -> None:
    first = run_cli(tmp_home, "import", "irssi", str(DATA / "irssi"), "--me", "Myself", "--timezone", "UTC")
    assert first.returncode == 0, first.stderr
    assert "1 files, 28 new messages (0 already in the archive), 1 conversations" in first.stdout
    assert "archive-only accounts created (history only, not in accounts.json): irc:Myself" in first.stdout
    lines = history(tmp_home, "#letstalk")
    assert len(lines) == 28
    mine = [line for line in lines if line["direction"] == "out"]
    assert [line["body"] for line in mine][:2] == ["yo foo", "a multitude of times more boring than expected"]
    assert lines[0]["sent_at"] == "2010-01-06T13:15:00Z"
    again = run_cli(tmp_home, "import", "irssi", str(DATA / "irssi"), "--me", "Myself", "--timezone", "UTC")
    assert "0 new messages (28 already in the archive)" in again.stdout


def test_gajim_database_and_element_export(tmp_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "gajim"
    folder.mkdir()
    con = sqlite3.connect(folder / "logs.db")
    con.executescript((DATA / "gajim" / "gajim-2.x.sql").read_text(encoding="utf-8"))
    con.close()
    result = run_cli(tmp_home, "import", "gajim", str(folder))
    assert result.returncode == 0, result.stderr
    assert "7 new messages" in result.stdout and "retracted by a moderator" in result.stdout
    assert [(m["direction"], m["body"]) for m in history(tmp_home, "dest@gmail.com")][:3] == [
        ("out", "regular message"),
        ("in", "regular message"),
        ("out", "char>message\u00f7"),
    ]
    element = run_cli(tmp_home, "import", "element", str(DATA / "element"))
    assert element.returncode == 0, element.stderr
    assert "8 new messages" in element.stdout and "redacted (reason: Spamming)" in element.stdout


def test_an_unknown_zone_and_a_folder_of_the_wrong_kind(tmp_home: Path) -> None:
    zone = run_cli(tmp_home, "import", "weechat", str(DATA / "weechat"), "--timezone", "Mars/Olympus")
    assert zone.returncode == 2 and "unknown time zone 'Mars/Olympus'" in zone.stderr
    wrong = run_cli(tmp_home, "import", "weechat", str(DATA / "irssi"))
    assert wrong.returncode == 1 and "no WeeChat logs under" in wrong.stderr
