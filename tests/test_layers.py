"""The import-linter contract 'protocols import only aggregator.api' lists core modules by name;
this keeps that list complete as the core grows."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import aggregator

ROOT = Path(__file__).resolve().parents[1]


def test_every_core_module_but_api_is_forbidden_to_protocols() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("source_modules") == ["protocols"]]
    forbidden = set(contract["forbidden_modules"])
    core = {f"aggregator.{m.name}" for m in pkgutil.iter_modules(aggregator.__path__)} - {"aggregator.api"}
    core.discard("aggregator.__main__")
    assert core <= forbidden, f"add to the contract: {sorted(core - forbidden)}"
