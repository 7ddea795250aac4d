"""Writing to the terminal. One place, so that nothing else needs print()."""

from __future__ import annotations

import sys
import threading

_lock = threading.Lock()


def out(text: str = "") -> None:
    with _lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def err(text: str) -> None:
    with _lock:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def status(text: str) -> None:
    """Rewrite the current stderr line (a progress bar on a terminal): no newline, flushed."""
    with _lock:
        sys.stderr.write(text)
        sys.stderr.flush()


def warn(text: str) -> None:
    err(f"aggregator: warning: {text}")


def ask(question: str) -> str:
    """Write ``question`` (no newline) and read one line of standard input; "" at its end."""
    with _lock:
        sys.stdout.write(question)
        sys.stdout.flush()
    return sys.stdin.readline()
