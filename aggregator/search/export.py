"""Exporting the archive (all of it, or what a search query selects) as JSON lines, text or HTML.

Streaming: messages are read a page at a time, oldest first, and written as they come. With a query,
a first pass collects only the matching ids (8 bytes each), then the messages are read back by id.
The file is written atomically: a temporary file in the target's directory, fsync, rename; a failed
or interrupted export leaves no partial file behind. The HTML is one self-contained page (inline CSS,
no scripts, no remote resources) in which every body and name is escaped.
"""

from __future__ import annotations

import contextlib
import enum
import html
import json
import os
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from aggregator.api import MessageKind
from aggregator.archive import Archive, Direction, StoredMessage
from aggregator.archive.attachments import AttachmentTable
from aggregator.archive.queries import ArchiveQueries
from aggregator.files.model import Attachment
from aggregator.search.plan import MAX_LIMIT
from aggregator.search.query import SearchQuery
from aggregator.search.service import SearchService

_PAGE = 1000


class ExportFormat(enum.StrEnum):
    JSONL = "jsonl"
    TXT = "txt"
    HTML = "html"


class Selection:
    """The messages to export, oldest first: every one, or a query's matches."""

    def __init__(self, archive: Archive | None, query: SearchQuery | None = None) -> None:
        self._archive = archive
        self.archive = archive
        self._query = query
        self._ids: array[int] | None = None

    @classmethod
    def empty(cls) -> Selection:
        """No messages (there is no archive yet)."""
        return cls(None, None)

    def count(self) -> int:
        if self._archive is None:
            return 0
        if self._query is None:
            return ArchiveQueries(self._archive).count()
        return len(self._matching_ids())

    def _matching_ids(self) -> array[int]:
        if self._ids is None:
            assert self._query is not None and self._archive is not None
            ids: array[int] = array("q")
            service = SearchService(self._archive)
            before: int | None = None
            while True:
                hits = service.search(self._query, limit=MAX_LIMIT, before_id=before)
                ids.extend(h.message.id for h in hits)
                if len(hits) < MAX_LIMIT:
                    break
                before = hits[-1].message.id
            ids.reverse()
            self._ids = ids
        return self._ids

    def __iter__(self) -> Iterator[StoredMessage]:
        archive = self._archive
        if archive is None:
            return
        queries = ArchiveQueries(archive)
        if self._query is None:
            after = -1
            while page := queries.page_after(after, _PAGE):
                yield from page
                after = page[-1].id
            return
        ids = self._matching_ids()
        for start in range(0, len(ids), _PAGE):
            yield from queries.by_ids(ids[start : start + _PAGE].tolist())


# -- writers -------------------------------------------------------------------------------------


def _when(m: StoredMessage, tz: tzinfo | None) -> str:
    return m.sent_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _who(m: StoredMessage) -> str:
    return m.sender_name or m.sender


def _title(m: StoredMessage) -> str:
    return f"{m.conversation.handle} ({m.account_id})"


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """A file of an exported message: ``copy`` is its path relative to the export (None: not copied, held)."""

    attachment: Attachment
    copy: str | None


class _Files:
    """The files of exported messages, copied clean into ``<export name>_files/`` beside the export."""

    def __init__(self, archive: Archive, folder: Path, published: str) -> None:
        self._table = AttachmentTable(archive)
        self._with_files = self._table.message_ids_with_files()
        self._folder = folder
        self._published = published  # the folder's name as the export refers to it
        self.copied = 0

    def of(self, m: StoredMessage) -> list[ExportedFile]:
        if m.id not in self._with_files:
            return []
        found: list[ExportedFile] = []
        for stored in self._table.for_messages([m.id]).get(m.id, []):
            a = stored.attachment
            copy: str | None = None
            if a.state.openable and a.local_path is not None and a.local_path.exists():
                self._folder.mkdir(exist_ok=True)
                name = f"{stored.id}-{a.name}"
                shutil.copyfile(a.local_path, self._folder / name)
                copy = f"{self._published}/{name}"
                self.copied += 1
            found.append(ExportedFile(a, copy))
        return found


class _Writer:
    def __init__(self, stream: IO[str], tz: tzinfo | None) -> None:
        self.stream = stream
        self.tz = tz
        self._conversation: int | None = None
        self.files: list[ExportedFile] = []  # the current message's files

    def begin(self, title: str) -> None:
        pass

    def message(self, m: StoredMessage) -> None:
        raise NotImplementedError

    def end(self) -> None:
        pass

    def new_conversation(self, m: StoredMessage) -> bool:
        changed = m.conversation_id != self._conversation
        self._conversation = m.conversation_id
        return changed


class _Jsonl(_Writer):
    def __init__(self, stream: IO[str], tz: tzinfo | None, shape: Callable[[StoredMessage], dict[str, Any]]) -> None:
        super().__init__(stream, tz)
        self._shape = shape

    def message(self, m: StoredMessage) -> None:
        shaped = self._shape(m)
        if self.files:
            shaped["files"] = [
                {
                    "name": f.attachment.name,
                    "size": f.attachment.size,
                    "mime_type": f.attachment.mime_type,
                    "sha256": f.attachment.sha256,
                    "state": f.attachment.state.value,
                    "reason": f.attachment.reason or None,
                    "copy": f.copy,
                }
                for f in self.files
            ]
        self.stream.write(json.dumps(shaped, ensure_ascii=False) + "\n")


class _Text(_Writer):
    def message(self, m: StoredMessage) -> None:
        if self.new_conversation(m):
            self.stream.write(f"\n== {_title(m)} ==\n")
        body = m.body.replace("\r\n", "\n").replace("\n", "\n    ")
        if m.kind is MessageKind.ACTION:
            text = f"* {_who(m)} {body}"
        elif m.kind is MessageKind.SYSTEM:
            text = f"-- {body}"
        else:
            text = f"{'->' if m.direction is Direction.OUT else '<-'} {_who(m)}: {body}"
        self.stream.write(f"{_when(m, self.tz)}  {text}\n")
        for f in self.files:
            where = f.copy or f"not copied: {f.attachment.reason or f.attachment.state.value}"
            self.stream.write(f"    [file: {f.attachment.name} ({where})]\n")


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;background:#fff}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em;border-bottom:1px solid #ccc}
.m{margin:.15em 0;white-space:pre-wrap;overflow-wrap:anywhere}
time{color:#888;font-size:.85em;margin-right:.6em}
.who{font-weight:600}.out .who{color:#16569e}.in .who{color:#a82f2f}
.action{font-style:italic}.system{color:#777}
.file{margin:.1em 0 .3em 2em}.file.held{color:#a82f2f}
@media (prefers-color-scheme:dark){body{background:#1e1e1e;color:#ddd}}
""".strip()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


class _Html(_Writer):
    def begin(self, title: str) -> None:
        self.stream.write(
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n<h1>{_e(title)}</h1>\n"
        )
        self._open = False

    def message(self, m: StoredMessage) -> None:
        if self.new_conversation(m):
            if self._open:
                self.stream.write("</section>\n")
            self.stream.write(f"<section><h2>{_e(_title(m))}</h2>\n")
            self._open = True
        css = "out" if m.direction is Direction.OUT else "in"
        stamp = m.sent_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        when = f'<time datetime="{_e(stamp)}">{_e(_when(m, self.tz))}</time>'
        who = f'<span class="who">{_e(_who(m))}</span>'
        body = _e(m.body)
        if m.kind is MessageKind.ACTION:
            self.stream.write(f'<div class="m {css} action">{when}* {who} {body}</div>\n')
        elif m.kind is MessageKind.SYSTEM:
            self.stream.write(f'<div class="m system">{when}{body}</div>\n')
        else:
            self.stream.write(f'<div class="m {css}">{when}{who}: {body}</div>\n')
        for f in self.files:
            name = _e(f.attachment.name)
            if f.copy is not None:
                self.stream.write(f'<div class="file"><a href="{_e(quote(f.copy))}">{name}</a></div>\n')
            else:
                why = _e(f.attachment.reason or f.attachment.state.value)
                self.stream.write(f'<div class="file held">{name} (not copied: {why})</div>\n')

    def end(self) -> None:
        if self._open:
            self.stream.write("</section>\n")
        self.stream.write("</body></html>\n")


def export(
    selection: Selection,
    target: Path,
    fmt: ExportFormat,
    *,
    shape: Callable[[StoredMessage], dict[str, Any]],
    title: str = "Chat archive",
    tz: tzinfo | None = None,
    on_message: Callable[[], None] | None = None,
    with_files: bool = True,
) -> int:
    """Write ``selection`` to ``target`` atomically; returns the number of messages written.

    ``shape`` turns a message into its JSON object (the public shape, for ``jsonl``). With ``with_files``,
    the clean files of the exported messages are copied into ``<target name>_files/`` beside it (the
    export links to them); held, blocked and infected files are listed, never copied.
    """
    target = target.absolute()
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    temp = Path(temp_name)
    written = 0
    published = f"{target.name}_files"
    staging = target.parent / f".{published}.partial"
    files = _Files(selection.archive, staging, published) if with_files and selection.archive is not None else None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            writer: _Writer
            if fmt is ExportFormat.JSONL:
                writer = _Jsonl(stream, tz, shape)
            elif fmt is ExportFormat.TXT:
                writer = _Text(stream, tz)
            else:
                writer = _Html(stream, tz)
            writer.begin(title)
            for message in selection:
                writer.files = files.of(message) if files is not None else []
                writer.message(message)
                written += 1
                if on_message is not None:
                    on_message()
            writer.end()
            stream.flush()
            os.fsync(stream.fileno())
        if files is not None and files.copied:
            final = target.parent / published
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_dir(target.parent)
    return written


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def export_title(query_text: str | None, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).astimezone().strftime("%Y-%m-%d %H:%M")
    return f"Chat archive: {query_text}, exported {stamp}" if query_text else f"Chat archive, exported {stamp}"
