"""Generated chat-log trees of other clients (Pidgin .txt logs, Trillian .log files) for import tests.

Every message has a unique body (``<word> <file> <line>``), so a test can count each one in the archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ACCOUNT = "alice@example.org"


@dataclass(frozen=True, slots=True)
class LogTree:
    root: Path
    files: list[Path]
    #: Every message body, per conversation handle, in the order written.
    bodies: dict[str, list[str]]

    @property
    def total(self) -> int:
        return sum(len(b) for b in self.bodies.values())


def pidgin_tree(root: Path, *, buddies: int, days: int, lines: int, word: str) -> LogTree:
    """``<root>/jabber/alice@example.org/<buddy>/<date>.txt``: ``buddies * days`` files of ``lines`` lines."""
    files: list[Path] = []
    bodies: dict[str, list[str]] = {}
    start = datetime(2023, 1, 2, 9, 0, 0)
    for b in range(buddies):
        buddy = f"buddy{b:03d}@example.org"
        folder = root / "jabber" / ACCOUNT / buddy
        folder.mkdir(parents=True)
        for d in range(days):
            at = start + timedelta(days=d)
            name = at.strftime("%Y-%m-%d.%H%M%S") + "+0000UTC.txt"
            header = (
                f"Conversation with {buddy} at {at.strftime('%a %d %b %Y %I:%M:%S %p')} UTC on {ACCOUNT}/Home (jabber)"
            )
            out = [header]
            for n in range(lines):
                stamp = (at + timedelta(seconds=5 * n)).strftime("%H:%M:%S")
                body = f"{word} b{b:03d}d{d:02d}n{n:03d} talks about the import"
                who = buddy if n % 2 == 0 else ACCOUNT
                out.append(f"({stamp}) {who}/Home: {body}")
                bodies.setdefault(buddy, []).append(body)
            path = folder / name
            path.write_text("\n".join(out) + "\n", encoding="utf-8")
            files.append(path)
    return LogTree(root, files, bodies)


def trillian_tree(root: Path, *, buddies: int, sessions: int, lines: int, word: str) -> LogTree:
    """``<root>/ICQ/<buddy>.log``: ``buddies`` files of ``sessions`` sessions of ``lines`` lines."""
    files: list[Path] = []
    bodies: dict[str, list[str]] = {}
    folder = root / "ICQ"
    folder.mkdir(parents=True)
    start = datetime(2022, 5, 2, 10, 0, 0)
    for b in range(buddies):
        buddy = f"buddy{b:03d}"
        out: list[str] = []
        for s in range(sessions):
            at = start + timedelta(days=s)
            out.append(f"Session Start (alice:{buddy}): {at.strftime('%a %b %d %H:%M:%S %Y')}")
            for n in range(lines):
                stamp = (at + timedelta(minutes=n)).strftime("%H:%M")
                body = f"{word} t{b:03d}s{s:02d}n{n:03d} talks about the import"
                out.append(f"[{stamp}] {buddy if n % 2 == 0 else 'alice'}: {body}")
                bodies.setdefault(buddy, []).append(body)
            end = at + timedelta(minutes=lines)
            out.append(f"Session Close ({buddy}): {end.strftime('%a %b %d %H:%M:%S %Y')}")
            out.append("")
        path = folder / f"{buddy}.log"
        path.write_text("\n".join(out), encoding="utf-8")
        files.append(path)
    return LogTree(root, files, bodies)
