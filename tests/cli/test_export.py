"""``aggregator export`` and ``aggregator retention`` as subprocesses on imported logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def home(tmp_home: Path) -> Path:
    for source in ("pidgin", "trillian"):
        assert run_cli(tmp_home, "import", source, str(FIXTURES / source)).returncode == 0
    return tmp_home


def test_export_formats(home: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "all.jsonl"
    result = run_cli(home, "export", "--format", "jsonl", "--output", str(jsonl))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"exported 24 messages to {jsonl}"
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 24 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert {"id", "account", "conversation", "body", "sent_at", "direction"} <= set(rows[0])
    html = tmp_path / "bob.html"
    assert run_cli(home, "export", "--format", "html", "in:bob@example.org", "--output", str(html)).returncode == 0
    page = html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is just text" in page and "<script" not in page
    assert page.count('<div class="m') == 10
    txt = tmp_path / "z.txt"
    assert run_cli(home, "export", "zeppelin", "--format", "txt", "-o", str(txt)).returncode == 0
    assert txt.read_text(encoding="utf-8").count("zeppelin") == 2


def test_export_errors(home: Path, tmp_path: Path) -> None:
    bad = run_cli(home, "export", '"', "--format", "txt", "--output", str(tmp_path / "x.txt"))
    assert bad.returncode == 2 and "aggregator: error:" in bad.stderr
    nodir = run_cli(home, "export", "--format", "txt", "--output", str(tmp_path / "no" / "x.txt"))
    assert nodir.returncode == 2 and "does not exist" in nodir.stderr
    assert not (tmp_path / "x.txt").exists()


def test_retention_dry_run_then_delete(home: Path) -> None:
    dry = run_cli(home, "retention", "--days", "3650", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 2 messages in 1 conversations, from 2008-07-05 to 2008-07-05" in dry.stdout
    assert json.loads(run_cli(home, "stats", "--json").stdout)["total"] == 24
    none = run_cli(home, "retention", "--days", "365", "--sphere", "work", "--dry-run")
    assert "would delete nothing" in none.stdout
    ambiguous = run_cli(home, "retention", "--days", "1", "--account", "alice123")
    assert ambiguous.returncode == 2 and "matches several accounts" in ambiguous.stderr
    done = run_cli(home, "retention", "--days", "1", "--account", "icq:alice123")
    assert done.returncode == 0 and "deleted 6 messages in 1 conversations" in done.stdout
    assert run_cli(home, "search", "photos").stdout == ""
    assert json.loads(run_cli(home, "stats", "--json").stdout)["total"] == 18
