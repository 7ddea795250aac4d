"""The registry of log formats: every module of this package that defines ``FORMAT`` (a ``LogFormat``).

A new importer plugs in by being a module here, either with ``FORMAT = LogFormat(name=..., title=...,
description=..., detect=..., read=..., parse_all=...)`` or with the module-level convention ``SOURCE``,
``TITLE``, ``DESCRIPTION``, ``detect(dir)``, ``read(dir)`` and ``parse_all(root, files, *, me=..., zone=...)``
(the keywords it does not take are not passed); nothing else has to name it. ``recognise`` says which
formats a directory holds (``aggregator import auto DIR``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from aggregator.api import AggregatorError
from aggregator.archive.importers.common import LogFile, LogFormat, ReadOptions, Skipped

log = logging.getLogger(__name__)

_NOT_FORMATS = frozenset({"common", "formats", "runner", "report", "session", "irclog"})


class NothingToImport(AggregatorError):
    """The directory is not there, or holds no logs of the format asked for."""


@cache
def formats() -> dict[str, LogFormat]:
    """Every registered format by name, in name order."""
    package = importlib.import_module(__package__ or "aggregator.archive.importers")
    found: dict[str, LogFormat] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _NOT_FORMATS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        fmt = getattr(module, "FORMAT", None)
        if not isinstance(fmt, LogFormat):
            fmt = _by_convention(module)
        if fmt is not None:
            found[fmt.name] = fmt
    return dict(sorted(found.items()))


def _by_convention(module: ModuleType) -> LogFormat | None:
    if not all(hasattr(module, n) for n in ("SOURCE", "TITLE", "DESCRIPTION", "detect", "read", "parse_all")):
        return None
    parse_all = module.parse_all
    takes = inspect.signature(parse_all).parameters

    def parse(root: Path, files: list[Path], options: ReadOptions) -> Iterator[LogFile | Skipped]:
        kwargs: dict[str, Any] = {}
        if "me" in takes:
            kwargs["me"] = options.me
        if "zone" in takes:
            kwargs["zone"] = options.zone
        result: Iterator[LogFile | Skipped] = parse_all(root, files, **kwargs)
        return result

    return LogFormat(
        name=str(module.SOURCE),
        title=str(module.TITLE),
        description=str(module.DESCRIPTION),
        detect=module.detect,
        read=module.read,
        parse_all=parse,
        source=str(module.SOURCE),
    )


def get(name: str) -> LogFormat:
    return formats()[name]


def recognise(directory: Path) -> list[LogFormat]:
    """The formats whose logs ``directory`` holds (usually one)."""
    hits: list[LogFormat] = []
    for fmt in formats().values():
        try:
            if fmt.detect(directory):
                hits.append(fmt)
        except OSError as exc:
            log.warning("Cannot look for %s logs in %s: %s", fmt.title, directory, exc)
    return hits


@dataclass(frozen=True, slots=True)
class Plan:
    """What one import will read: a format, its log root and the candidate files."""

    format: LogFormat
    root: Path
    files: list[Path]


def plan(name: str, directory: Path) -> list[Plan]:
    """The plans for ``aggregator import NAME DIR`` (``NAME`` ``auto``: every format the directory
    holds). Raises ``NothingToImport`` with a message a person can act on when there is nothing."""
    if not directory.is_dir():
        raise NothingToImport(f"{directory} is not a directory")
    if name == "auto":
        found = recognise(directory)
        if not found:
            known = ", ".join(f.title for f in formats().values())
            raise NothingToImport(f"no chat logs found under {directory} (looked for: {known})")
        chosen = found
    else:
        chosen = [get(name)]
    plans: list[Plan] = []
    for fmt in chosen:
        root, files = fmt.read(directory)
        if files:
            plans.append(Plan(fmt, root, files))
    if not plans:
        fmt = chosen[0]
        others = [f for f in recognise(directory) if f.name != fmt.name]
        hint = f": it holds {others[0].title} logs (aggregator import {others[0].name} DIR)" if others else ""
        raise NothingToImport(f"no {fmt.title} logs under {directory}{hint}")
    return plans


#: Every registered format by name (``formats()`` as a constant, for readers that want a mapping).
FORMATS: dict[str, LogFormat] = formats()
