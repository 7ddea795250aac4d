"""The archive behind methods: no SQL and no connection outside ``aggregator/archive/``.

The import-linter contract "SQL stays in the archive" (pyproject.toml) keeps SQLAlchemy and the
drivers inside the archive package; this test covers what an import contract cannot see: SQL written
as a string and handed to the archive's driver-level entry points, or the archive's connection and
transactions reached from another service.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where SQL may be written: the archive package (its migrations, importers and repositories).
ARCHIVE = ROOT / "aggregator" / "archive"
SCANNED = ("aggregator", "ui", "protocols")
#: Where the archive object is at hand (protocols never see it: "Protocols import only aggregator.api").
HOLDING_THE_ARCHIVE = ("aggregator", "ui")

#: A statement, not prose: SQL keywords are upper case in this code base.
SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP|ALTER)\s+(?:TABLE|INDEX|TRIGGER|VIEW|VIRTUAL\s+TABLE)\b|\bPRAGMA\s+\w+|\bMATCH\s+\?",
    re.DOTALL,
)
#: The archive's driver-level entry points and its connection and transactions: for the package only.
ARCHIVE_INTERNALS = frozenset(
    {
        "read_rows",
        "_execute_write",
        "execute_write",
        "connection",
        "_connection",
        "_reading",
        "_writing",
        "driver_sql",
    }
)


def _sources(root: Path) -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            if (root / "aggregator" / "archive") not in path.parents:
                yield path


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def violations(root: Path) -> list[str]:
    """Every SQL string and every use of an archive internal outside the archive package, as
    ``path:line: what``."""
    found: list[str] = []
    for path in _sources(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstrings = _docstrings(tree)
        in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        skipped = docstrings | in_fstrings
        where = path.relative_to(root)
        holds_archive = where.parts[0] in HOLDING_THE_ARCHIVE
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
                if SQL.search(node.value):
                    found.append(f"{where}:{node.lineno}: SQL in a string: {node.value[:60]!r}")
            elif isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                if SQL.search(text):
                    found.append(f"{where}:{node.lineno}: SQL in an f-string: {text[:60]!r}")
            elif holds_archive and isinstance(node, ast.Attribute) and node.attr in ARCHIVE_INTERNALS:
                found.append(f"{where}:{node.lineno}: uses the archive's .{node.attr}")
    return sorted(set(found))


def test_no_sql_and_no_archive_connection_outside_the_archive_package() -> None:
    assert violations(ROOT) == []


def test_the_check_sees_sql_and_a_handed_out_connection(tmp_path: Path) -> None:
    service = tmp_path / "aggregator" / "roster" / "store.py"
    service.parent.mkdir(parents=True)
    service.write_text(
        '"""SELECT names FROM a docstring are prose."""\n'
        "def load(archive, n):\n"
        "    conn = archive.connection\n"
        '    archive.read_rows(f"SELECT id FROM persons LIMIT {n}")\n'
        "    return conn.exec_driver_sql('DELETE FROM contacts WHERE id = ?', (1,))\n",
        encoding="utf-8",
    )
    allowed = tmp_path / "aggregator" / "archive" / "roster_tables.py"
    allowed.parent.mkdir(parents=True)
    allowed.write_text("SQL = 'SELECT id FROM persons'\n", encoding="utf-8")
    for top in ("ui", "protocols"):
        (tmp_path / top).mkdir()
    assert violations(tmp_path) == [
        "aggregator/roster/store.py:3: uses the archive's .connection",
        "aggregator/roster/store.py:4: SQL in an f-string: 'SELECT id FROM persons LIMIT '",
        "aggregator/roster/store.py:4: uses the archive's .read_rows",
        "aggregator/roster/store.py:5: SQL in a string: 'DELETE FROM contacts WHERE id = ?'",
    ]
