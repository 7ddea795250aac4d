"""The policy's file rules for one account, and the verdict they give on one file.

``file_transfer`` is ``allow`` (files pass), ``deny`` (none pass) or ``scan`` (received files are held in
quarantine until the scanner says clean). ``blocked_extensions`` is checked against every extension of the
name, so ``invoice.pdf.exe`` and ``photo.exe.jpg`` are both caught when ``exe`` is blocked: the first runs as
a program, the second hides one behind a harmless last extension. A file whose content is a program is
judged by that, whatever its name says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aggregator.files.names import extensions
from aggregator.files.sniff import EXECUTABLE_TYPES

_MIB = 1024 * 1024

#: The extensions of a program for each executable content type, so a renamed program is still caught.
_PROGRAM_EXTENSIONS = {
    "application/x-msdownload": "exe",
    "application/x-executable": "elf",
    "text/x-shellscript": "sh",
}


class FileMode(enum.StrEnum):
    """Stored code (policy files): keep the values."""

    ALLOW = "allow"
    DENY = "deny"
    SCAN = "scan"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRules:
    mode: FileMode = FileMode.ALLOW
    max_file_mb: int | None = None
    blocked_extensions: frozenset[str] = frozenset()
    scan_required: bool = False  # with scan: no scanner reachable means the file stays held

    @property
    def scans(self) -> bool:
        return self.mode is FileMode.SCAN or self.scan_required


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a file may not pass: the rule's key (as written in the policy file) and a sentence."""

    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.reason} (policy rule: {self.rule})"


def normalise_extension(value: str) -> str:
    return value.strip().lower().lstrip(".")


def check_file(rules: FileRules, name: str, size: int | None, mime_type: str | None = None) -> Refusal | None:
    """None when the file may pass (possibly to be scanned), else the first rule it breaks."""
    if rules.mode is FileMode.DENY:
        return Refusal("file_transfer", "Files are not allowed on this account")
    if size is not None and rules.max_file_mb is not None and size > rules.max_file_mb * _MIB:
        return Refusal("max_file_mb", f"The file is larger than the {rules.max_file_mb} MB allowed")
    if rules.blocked_extensions:
        found = [ext for ext in extensions(name) if ext in rules.blocked_extensions]
        if mime_type in EXECUTABLE_TYPES and _PROGRAM_EXTENSIONS[mime_type] in rules.blocked_extensions:
            found.append(_PROGRAM_EXTENSIONS[mime_type])
        if found:
            return Refusal("blocked_extensions", f"Files of type .{found[0]} are not allowed")
    return None
