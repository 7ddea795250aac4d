"""A peer's file name made safe to show and to write on this machine.

The name a peer sends is untrusted: it may carry a path (``../../.bashrc``, ``/etc/passwd``,
``C:\\Windows\\x``), control or bidi characters that disguise the extension (``gpj.exe`` shown
right-to-left as ``exe.jpg``), a Windows reserved device name (``CON``, ``com1.txt``), trailing dots or
spaces that Windows drops, or nothing at all. ``safe_file_name`` keeps the last path component and
replaces everything that could hurt; the result is never empty, never a path and at most 200 bytes.
"""

from __future__ import annotations

import re
import unicodedata

FALLBACK_NAME = "file"
MAX_NAME_BYTES = 200

_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"}
)
_FORBIDDEN = re.compile(r'[<>:"|?*\\/]')


def _visible(char: str) -> bool:
    # Cc: control characters; Cf: format characters (bidi overrides, zero-width joiners, BOM).
    return unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def safe_file_name(raw: str) -> str:
    """The last component of ``raw``, without control/format characters, separators or reserved names."""
    text = unicodedata.normalize("NFC", raw or "")
    # Both separators count: a Windows peer's path arrives with backslashes.
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(c if _visible(c) else "" for c in text)
    text = _FORBIDDEN.sub("_", text)
    text = " ".join(text.split())  # tabs, no-break spaces and runs of spaces become one space
    text = text.strip(" .")
    if not text:
        return FALLBACK_NAME
    if text.split(".", 1)[0].lower().rstrip(" ") in _RESERVED:
        text = f"_{text}"
    return _truncate(text)


def _truncate(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension.encode()) > 16:
        stem, extension, dot = name, "", ""
    budget = MAX_NAME_BYTES - len(extension.encode()) - len(dot)
    cut = stem.encode()[:budget].decode(errors="ignore").rstrip(" .")
    return f"{cut or FALLBACK_NAME}{dot}{extension}"


def extensions(name: str) -> tuple[str, ...]:
    """Every extension of ``name``, lower case, outermost last: ``Report.PDF.exe`` -> ("pdf", "exe")."""
    parts = safe_file_name(name).lower().split(".")[1:]
    return tuple(p.strip() for p in parts if p.strip())
