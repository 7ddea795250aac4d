"""What a file's first bytes say it is, and whether that agrees with the type its sender declared.

A peer declares a MIME type (an OOB description, a Matrix ``info.mimetype``); nothing stops it from
calling a Windows program ``image/png``. The window decides how to show a file (inline picture, card) and
the desktop decides how to open it from the type and the extension, so both are checked against the
content's signature. Only signatures that identify a type for certain are listed; anything else is
"unknown" and judged by the declared type and the extension rules alone.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How many leading bytes ``sniff`` needs.
SNIFF_BYTES = 64

_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"#!", "text/x-shellscript"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
    (4, b"ftyp", "video/mp4"),
)

#: Types whose content is a program or script: never shown as something else.
EXECUTABLE_TYPES = frozenset({"application/x-msdownload", "application/x-executable", "text/x-shellscript"})

#: Containers whose declared type legitimately differs (an .docx or .odt is a zip, an .apk too).
_CONTAINER_FAMILIES = {
    "application/zip": ("application/vnd.", "application/zip", "application/java-archive", "application/epub"),
    "video/mp4": ("video/", "audio/mp4", "audio/x-m4a", "image/heic", "image/avif"),
    "audio/ogg": ("audio/", "video/ogg", "application/ogg"),
}


def sniff(head: bytes) -> str | None:
    """The MIME type the content's signature proves, or None when no listed signature matches."""
    if head[8:12] == b"WEBP" and head[:4] == b"RIFF":
        return "image/webp"
    for offset, magic, mime in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return mime
    return None


@dataclass(frozen=True, slots=True)
class TypeCheck:
    """The type to trust for a file and, when the declared one lied, what it claimed."""

    mime_type: str
    declared: str
    mismatch: bool

    @property
    def is_executable(self) -> bool:
        return self.mime_type in EXECUTABLE_TYPES


def check_type(declared: str | None, head: bytes) -> TypeCheck:
    """Trust the content over the declaration; a mismatch is reported, the sniffed type wins."""
    claimed = (declared or "application/octet-stream").split(";", 1)[0].strip().lower()
    found = sniff(head)
    if found is None:
        # Unknown content cannot be shown inline as a picture whatever it claims.
        if claimed.startswith("image/"):
            return TypeCheck("application/octet-stream", claimed, mismatch=True)
        return TypeCheck(claimed, claimed, mismatch=False)
    if found == claimed or claimed == "application/octet-stream":
        return TypeCheck(found, claimed, mismatch=False)
    if any(claimed.startswith(prefix) for prefix in _CONTAINER_FAMILIES.get(found, ())):
        return TypeCheck(claimed, claimed, mismatch=False)
    return TypeCheck(found, claimed, mismatch=True)
