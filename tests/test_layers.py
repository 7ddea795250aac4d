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


def test_every_inner_core_module_is_forbidden_to_the_front_ends() -> None:
    """The window, the CLI and the control socket use the application layer, the api and event types."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("source_modules") == ["ui", "aggregator.cli", "aggregator.control"]]
    forbidden = set(contract["forbidden_modules"])
    core = {f"aggregator.{m.name}" for m in pkgutil.iter_modules(aggregator.__path__)}
    allowed = {"aggregator.api", "aggregator.app", "aggregator.events", "aggregator.cli", "aggregator.control"}
    inner = core - allowed - {"aggregator.__main__"}
    assert inner <= forbidden, f"add to the contract: {sorted(inner - forbidden)}"
