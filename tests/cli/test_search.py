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
    assert "\x07" not in bell.stdout and "\ufffd tomorrow" in bell.stdout


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
