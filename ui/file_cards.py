"""How a message's files look in the timeline: a card per file (name, size, type, state) with its actions
as links, a thumbnail for a clean picture, a progress line while it moves.

Everything a peer chose (the name, the type) is escaped; a file is openable only when it is clean, and a
held, blocked or infected one says why instead. The links use the ``aggregator-file:`` scheme
(``ACTION/ID``), which ``MessageView`` turns into ``file_action`` signals; nothing here touches the disk.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from aggregator.app.files import AttachmentState, StoredAttachment, size_text
from ui.theme_colors import current as theme_colors

FILE_SCHEME = "aggregator-file"
THUMB_SCHEME = "aggregator-thumb"
#: Pictures Qt's own image readers show inline.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp"})

_STATE_TEXT = {
    AttachmentState.OFFERED: "not downloaded yet",
    AttachmentState.TRANSFERRING: "downloading…",
    AttachmentState.QUARANTINED: "held",
    AttachmentState.CLEAN: "",
    AttachmentState.INFECTED: "infected: kept in quarantine",
    AttachmentState.BLOCKED: "blocked by policy",
    AttachmentState.FAILED: "failed",
}
_TROUBLE = frozenset(
    {AttachmentState.QUARANTINED, AttachmentState.INFECTED, AttachmentState.BLOCKED, AttachmentState.FAILED}
)


@dataclass(frozen=True, slots=True)
class FileView:
    """One file as a conversation shows it (``done``: bytes moved so far while it transfers)."""

    id: int
    message_id: int
    name: str
    size: int | None
    mime_type: str
    state: AttachmentState
    reason: str
    local_path: Path | None
    done: int | None = None

    @property
    def openable(self) -> bool:
        return self.state is AttachmentState.CLEAN and self.local_path is not None

    @property
    def inline(self) -> bool:
        return self.openable and self.mime_type in INLINE_TYPES


def file_view(stored: StoredAttachment, done: int | None = None) -> FileView:
    a = stored.attachment
    return FileView(stored.id, stored.message_id, a.name, a.size, a.mime_type, a.state, a.reason, a.local_path, done)


def type_text(mime_type: str) -> str:
    major, _, minor = mime_type.partition("/")
    if mime_type == "application/octet-stream":
        return "file"
    if major in ("image", "video", "audio"):
        return f"{minor.upper()} {major}"
    return minor.removeprefix("x-").removeprefix("vnd.").split(".")[-1].upper() or mime_type


def progress_bar(done: int, total: int | None, width: int = 10) -> str:
    if not total:
        return f"{size_text(done)} so far"
    share = max(0.0, min(1.0, done / total))
    filled = round(share * width)
    return f"{'▰' * filled}{'▱' * (width - filled)} {share * 100:.0f}%"


def _link(action: str, file: FileView, label: str) -> str:
    return f'<a href="{FILE_SCHEME}:{action}/{file.id}">{html.escape(label)}</a>'


def card_html(file: FileView, *, thumbnail: bool) -> str:
    """One file's card (after ``<br>``), with the thumbnail above it when ``thumbnail`` is available."""
    colors = theme_colors()
    bad, muted = colors.error, colors.dim
    parts: list[str] = ["<br>"]
    if thumbnail and file.inline:
        parts.append(f'<a href="{FILE_SCHEME}:view/{file.id}"><img src="{THUMB_SCHEME}:{file.id}"></a><br>')
    details = f"{size_text(file.size)} · {type_text(file.mime_type)}"
    parts.append(f'📎 <b>{html.escape(file.name)}</b> <span style="color:{muted}">{html.escape(details)}</span>')
    actions: list[str] = []
    if file.state is AttachmentState.TRANSFERRING:
        parts.append(f" {html.escape(progress_bar(file.done or 0, file.size))}")
        actions.append(_link("cancel", file, "Cancel"))
    elif file.openable:
        actions += [_link("open", file, "Open"), _link("save", file, "Save as…")]
    elif file.state in (AttachmentState.OFFERED, AttachmentState.FAILED) and "encrypted" not in file.reason:
        actions.append(_link("fetch", file, "Download" if file.state is AttachmentState.OFFERED else "Try again"))
    state = _STATE_TEXT[file.state]
    if file.state in _TROUBLE:
        why = f"{state}: {file.reason}" if file.reason else state
        parts.append(f' <span style="color:{bad}">{html.escape(why)}</span>')
    elif file.state is AttachmentState.OFFERED:
        note = f"{state}: {file.reason}" if file.reason else state
        parts.append(f' <span style="color:{muted}">{html.escape(note)}</span>')
    if actions:
        parts.append(" " + " · ".join(actions))
    return "".join(parts)


def files_html(files: list[FileView], *, thumbnails: set[int]) -> str:
    return "".join(card_html(f, thumbnail=f.id in thumbnails) for f in files)
