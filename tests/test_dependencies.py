"""Every third-party module the product imports is declared in pyproject.toml's dependencies.

The imports are read with ``ast`` from every module of ``aggregator/``, ``protocols/`` and ``ui/``
(lazy imports inside functions included); the standard library is ``sys.stdlib_module_names``; an
import name is mapped to its distribution with the installed metadata (``nio`` → ``matrix-nio``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("aggregator", "protocols", "ui", "resources")


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = set()
    for requirement in project["dependencies"]:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, f"unreadable requirement {requirement!r}"
        names.add(normalized(match.group()))
    return names


def imported_top_levels(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def third_party_imports() -> dict[str, list[str]]:
    """Top-level import name → the files importing it, for every non-stdlib, non-project import."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imported_top_levels(path.read_text(encoding="utf-8")):
                if name in sys.stdlib_module_names or name in PACKAGES or name == "__future__":
                    continue
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_the_scan_sees_lazy_and_nested_imports() -> None:
    source = "import os.path\nfrom . import x\ndef f():\n    from jeepney.io import blocking\n    import nio\n"
    assert imported_top_levels(source) == {"os", "jeepney", "nio"}


def test_every_directly_imported_third_party_module_is_declared() -> None:
    owners = importlib.metadata.packages_distributions()
    wanted = declared()
    imports = third_party_imports()
    assert {"PySide6", "jeepney", "cryptography", "sqlalchemy"} <= imports.keys()  # the scan really scans
    undeclared = []
    for name, files in sorted(imports.items()):
        distributions = {normalized(d) for d in owners.get(name, [])}
        if not distributions:
            undeclared.append(f"{name} (not installed; imported by {', '.join(files[:3])})")
        elif not distributions & wanted:
            undeclared.append(f"{name} from {sorted(distributions)} (imported by {', '.join(files[:3])})")
    assert not undeclared, "imported but not declared in pyproject.toml's dependencies: " + "; ".join(undeclared)
