"""The user's XDG base directories (XDG Base Directory Specification), and desktop-entry quoting."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aggregator.paths import ProfilePaths


@dataclass(frozen=True, slots=True)
class XdgDirs:
    data_home: Path
    config_home: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> XdgDirs:
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())

        def pick(name: str, default: Path) -> Path:
            value = env.get(name, "")
            # The spec: a relative path in these variables is invalid and must be ignored.
            return Path(value) if value and os.path.isabs(value) else default

        return cls(pick("XDG_DATA_HOME", home / ".local" / "share"), pick("XDG_CONFIG_HOME", home / ".config"))


def launcher() -> list[str]:
    """The command that starts this very installation: the ``aggregator`` script beside this Python
    (a venv or pipx install), else the one on PATH, else ``python -m aggregator``."""
    beside = Path(sys.executable).parent / "aggregator"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("aggregator")
    if found:
        return [found]
    return [sys.executable, "-m", "aggregator"]


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def exec_quote(arg: str) -> str:
    """Quote one argument for a desktop entry's Exec key (the spec's rules, plus ``%`` doubled)."""
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in arg):
        raise ValueError("a command-line argument for a desktop entry cannot contain control characters")
    arg = arg.replace("%", "%%")
    if arg and not (_RESERVED & set(arg)):
        return arg
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
    return f'"{escaped}"'


def exec_line(argv: Sequence[str]) -> str:
    return " ".join(exec_quote(a) for a in argv)


def entry_escape(value: str) -> str:
    """A desktop entry *string* value (Exec is then escaped again at the file level: backslash doubled)."""
    return value.replace("\\", "\\\\")


def profile_args(paths: ProfilePaths) -> list[str]:
    """``--home DIR`` when ``paths`` is a profile of its own (``--home``/``AGGREGATOR_HOME``), so that an
    entry we write starts the same profile; nothing for the default profile."""
    root = paths.config_dir.parent
    if paths == ProfilePaths(config_dir=root / "config", data_dir=root / "data", runtime_dir=root / "run"):
        return ["--home", str(root)]
    return []
