"""``aggregator search`` and ``aggregator stats`` as subprocesses on an archive built directly
(no accounts, no keyring: search reads only the archive)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.api import ConversationKey, MessageState, Sphere
from aggregator.archive import Archive, Direction
from tests.cli.conftest import AGGREGATOR
from tests.conftest import cli_env

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_home: Path) -> Path:
    archive = Archive.open(path=tmp_home / "data" / "archive.sqlite3")
    try:
        archive.upsert_account("fake:alice@fake.test", "fake", "alice@fake.test", "Work", Sphere.WORK)
        bob = archive.conversation_id(ConversationKey.direct("fake:alice@fake.test", "bob@fake.test"))
        assert bob is not None
        for i, body in enumerate(
            ["see you tomorrow", "<b>tomorrow</b> [[maybe]]", "nothing here", "bell\x07 tomorrow"]
        ):
            archive.insert_message(
                conversation_id=bob,
                account_id="fake:alice@fake.test",
                direction=Direction.IN,
                sender="bob@fake.test",
                body=body,
                sent_at=T0 + timedelta(minutes=i),
                state=MessageState.RECEIVED,
            )
    finally:
        archive.close()
    return tmp_home


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGGREGATOR), *args], env=cli_env(home), capture_output=True, text=True, timeout=60, check=False
    )


def test_search_json_newest_first_with_snippets(home: Path) -> None:
    result = run(home, "search", "tomorrow", "--json")
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert [h["body"] for h in hits] == ["bell\x07 tomorrow", "<b>tomorrow</b> [[maybe]]", "see you tomorrow"]
    second = hits[1]
    assert second["snippet"] == "<b>[[tomorrow]]</b> [[maybe]]"
    assert second["snippet_segments"] == [
        {"text": "<b>", "match": False},
        {"text": "tomorrow", "match": True},
        {"text": "</b> [[maybe]]", "match": False},
    ]
    assert {"id", "account", "conversation", "sender", "sent_at", "direction"} <= set(second)
    limited = run(home, "search", "tomorrow", "--json", "--limit", "1", "--before-id", str(hits[0]["id"]))
    assert [json.loads(line)["body"] for line in limited.stdout.splitlines()] == ["<b>tomorrow</b> [[maybe]]"]


def test_search_human_output_has_no_escape_codes_when_piped(home: Path) -> None:
    result = run(home, "search", "with:bob", '"see you"')
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert "bob@fake.test" in line and "see you tomorrow" in line and "\x1b" not in line
    bell = run(home, "search", "bell")
    assert "\x07" not in bell.stdout and "bell\u2407 tomorrow" in bell.stdout  # the bell shown as ␇


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("search", ""), "nothing to search for"),
        (("search", "before:2024-13-45"), "before:2024-13-45: no such date"),
        (("search", "sphere:moon"), "sphere:moon"),
        (("search", "x", "--limit", "0"), "--limit"),
    ],
)
def test_bad_queries_exit_2_with_one_line(home: Path, args: tuple[str, ...], reason: str) -> None:
    result = run(home, *args)
    assert result.returncode == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and reason in lines[0], result.stderr


def test_fts_syntax_is_just_text(home: Path) -> None:
    for query in ('"unbalanced', "NEAR(x", "a AND OR", "^x*", "col:umn tomorrow"):
        result = run(home, "search", query)
        assert result.returncode == 0, (query, result.stderr)


def test_stats(home: Path, tmp_path: Path) -> None:
    result = run(home, "stats", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "total": 4,
        "accounts": {"fake:alice@fake.test": 4},
        "spheres": {"work": 4},
        "years": {"2024": 4},
    }
    assert "messages: 4" in run(home, "stats").stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    assert json.loads(run(empty, "stats", "--json").stdout)["total"] == 0
    assert run(empty, "search", "x").stdout == ""


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_import_then_search_stats_retention_on_postgresql(tmp_home: Path, postgres_url: str) -> None:
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")  # what a user types
    imported = run(tmp_home, "--database", url, "import", "pidgin", str(FIXTURES / "pidgin"))
    assert imported.returncode == 0, imported.stderr
    assert not (tmp_home / "data" / "archive.sqlite3").exists()  # nothing went to the profile's file
    again = run(tmp_home, "--database", url, "import", "pidgin", str(FIXTURES / "pidgin"))
    assert again.returncode == 0, again.stderr
    found = run(tmp_home, "--database", url, "search", "chips", "--json")
    assert found.returncode == 0, found.stderr
    (hit,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["body"] == 'Fish & chips at noon? 5 < 6 "really"'
    assert [s["text"] for s in hit["snippet_segments"] if s["match"]] == ["chips"]
    stats = run(tmp_home, "--database", url, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["total"] == 15  # the second import added nothing
    # the same database from the settings file instead of the option
    (tmp_home / "config").mkdir(exist_ok=True)
    (tmp_home / "config" / "settings.json").write_text(json.dumps({"database_url": url}))
    by_setting = run(tmp_home, "search", "chips")
    assert by_setting.returncode == 0 and "Fish & chips" in by_setting.stdout, by_setting.stderr
    dry = run(tmp_home, "retention", "--days", "0", "--dry-run")
    assert dry.returncode == 0, dry.stderr


@pytest.mark.parametrize(
    ("url", "code", "reason"),
    [
        ("mysql://h/db", 2, "unsupported database 'mysql'"),
        ("not a url", 2, "is not a database URL"),
        ("postgresql://127.0.0.1:1/nothing", 1, "cannot be opened"),
    ],
)
def test_a_bad_database_url_is_a_clear_error(tmp_home: Path, url: str, code: int, reason: str) -> None:
    result = run(tmp_home, "--database", url, "search", "x")
    assert result.returncode == code, result.stderr
    assert reason in result.stderr and "Traceback" not in result.stderr
