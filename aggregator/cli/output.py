"""Writing to the terminal. One place, so that nothing else needs print().

Everything written as text goes through ``printable``: message bodies, names and addresses come from
other people, and an error or a log line may quote them. A control character (ESC, CR, backspace, a C1
control such as CSI) would let a peer recolour, rewrite or hide lines, and a bidirectional override
would let it reorder what the user reads; each is shown as a visible stand-in instead (``␛`` for ESC,
``␍`` for CR, ``<U+202E>`` for an override). ``out`` and ``err`` write one line each: a line feed in
their text is shown too (``␊``), so no quoted field can fake a line of output. A message body keeps
its own line breaks, its further lines indented (``out_message``). ``--json`` output is written exactly
(``out_exact``): JSON escapes what it must itself.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

_lock = threading.Lock()

#: Unicode's bidirectional formatting characters (embeddings, overrides, isolates and marks).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters some terminals and pagers treat as line breaks.
_BREAKS = frozenset("\u2028\u2029")
#: The indentation of a body's second and later lines.
BODY_INDENT = "    "


class OutputClosedError(Exception):
    """Standard output was closed by the reader (``aggregator history | head``)."""


def _stand_in(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ... ␟ (␛ for ESC, ␍ for CR)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def _unsafe(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in _BIDI or ch in _BREAKS


def printable(text: str) -> str:
    """``text`` safe to write to a terminal as (part of) one line: every control character but tab,
    line feed included, and every bidirectional formatting character replaced by a visible stand-in."""
    if not any(_unsafe(ch) and ch != "\t" for ch in text):
        return text
    return "".join(_stand_in(ch) if _unsafe(ch) and ch != "\t" else ch for ch in text)


def body_lines(text: str) -> list[str]:
    """A message body as the lines it was written in (LF or CRLF), each ``printable``; at least one."""
    return [printable(line) for line in text.replace("\r\n", "\n").split("\n")]


def _write(stream: TextIO, text: str) -> None:
    try:
        with _lock:
            stream.write(text)
            stream.flush()
    except BrokenPipeError:
        if stream is sys.stdout:
            raise OutputClosedError from None
        raise


def out(text: str = "") -> None:
    _write(sys.stdout, printable(text) + "\n")


def out_message(head: str, text: str, tail: str = "") -> None:
    """A message: ``head`` and the body's first line, then its further lines indented by
    ``BODY_INDENT``; ``tail`` (a state) ends the last line."""
    lines = body_lines(text)
    lines[0] = printable(head) + lines[0]
    lines[-1] += printable(tail)
    _write(sys.stdout, "".join(line + "\n" if i == 0 else BODY_INDENT + line + "\n" for i, line in enumerate(lines)))


def out_exact(text: str) -> None:
    """A line written as is: ``--json`` output (JSON escapes control characters itself)."""
    _write(sys.stdout, text + "\n")


def err(text: str) -> None:
    _write(sys.stderr, printable(text) + "\n")


def status(text: str) -> None:
    """Rewrite the current stderr line (a progress bar on a terminal): no newline, flushed.
    ``text`` is the program's own (it may start with CR and end with an erase-line sequence)."""
    _write(sys.stderr, text)


def warn(text: str) -> None:
    err(f"aggregator: warning: {text}")


def error_text(exc: BaseException) -> str:
    """What went wrong, never empty: the exception's message, else what kind of failure it was."""
    text = str(exc).strip()
    if isinstance(exc, OSError):
        text = (exc.strerror or text).strip() + (f": {exc.filename}" if exc.filename else "")
        text = text.strip(": ")
    if text:
        return text
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__} (no details; run with -v for the log)"


def silence_stdout() -> None:
    """After the reader closed standard output: point it at /dev/null, so that nothing more (not even
    the interpreter's last flush) fails on it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def ask(question: str) -> str:
    """Write ``question`` (no newline) and read one line of standard input; "" at its end."""
    _write(sys.stdout, printable(question))
    return sys.stdin.readline()
