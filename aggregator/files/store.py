"""Where received files live: a quarantine folder while they are unchecked, then a content-addressed store.

A download streams chunk by chunk into a temporary file in ``quarantine/`` (owner-only, no extension, so
no desktop handler opens it by accident), hashing as it goes: memory stays flat whatever the size. A
stalled peer times out, a file larger than announced or allowed is cut off, and a full disk fails the
transfer with that reason; in every failure the partial file is removed. A file that is released moves to
``files/<first two hex digits>/<sha256>``, so the same picture received twice is kept once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aggregator.files.sniff import SNIFF_BYTES

log = logging.getLogger(__name__)

DEFAULT_STALL_SECONDS = 60.0
#: Chunks handed to the writer thread and not written yet, at most.
WRITE_AHEAD = 8
#: The store's folder in the profile's data directory.
FILES_DIR = "files"


class TransferFailed(Exception):
    """The transfer did not complete; the message says why in words a person understands."""


@dataclass(frozen=True, slots=True)
class Received:
    """A complete download, still in quarantine."""

    path: Path
    sha256: str
    size: int
    head: bytes  # the first bytes, for sniffing the type


async def _settle(pending: deque[asyncio.Future[None]]) -> None:
    """Wait for the writes already handed to the worker (their errors are the caller's failure)."""
    while pending:
        with contextlib.suppress(Exception):
            await pending.popleft()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.quarantine = root / "quarantine"
        self.files = root / "files"

    def _ensure(self) -> None:
        for path in (self.root, self.quarantine, self.files):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def receive(
        self,
        chunks: AsyncIterator[bytes],
        *,
        limit_bytes: int | None = None,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
        progress: Callable[[int], None] | None = None,
    ) -> Received:
        """Stream ``chunks`` into quarantine. Raises ``TransferFailed`` (nothing left behind) on failure.

        Hashing and writing run on a worker thread of their own, a few chunks behind the network (both
        release the GIL), so the loop keeps reading while the disk and the hash catch up; at most
        ``WRITE_AHEAD`` chunks wait, so memory stays flat."""
        self._ensure()
        path = self.quarantine / f"incoming-{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        size = 0
        head = b""
        loop = asyncio.get_running_loop()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="file-write")
        pending: deque[asyncio.Future[None]] = deque()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:

                def write(chunk: bytes) -> None:
                    digest.update(chunk)
                    out.write(chunk)

                iterator = aiter(chunks)
                while True:
                    try:
                        async with asyncio.timeout(stall_seconds):
                            chunk = await anext(iterator)
                    except StopAsyncIteration:
                        break
                    except TimeoutError:
                        raise TransferFailed(f"the sender stopped sending for {stall_seconds:g} s") from None
                    size += len(chunk)
                    if limit_bytes is not None and size > limit_bytes:
                        raise TransferFailed(f"the file is larger than the {limit_bytes} bytes expected")
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    pending.append(loop.run_in_executor(writer, write, chunk))
                    if len(pending) > WRITE_AHEAD:
                        await pending.popleft()
                    if progress is not None:
                        progress(size)
                while pending:
                    await pending.popleft()

                def finish() -> None:
                    out.flush()
                    os.fsync(out.fileno())

                await loop.run_in_executor(writer, finish)
        except OSError as exc:
            await _settle(pending)
            self._discard(path)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise TransferFailed("the disk is full") from exc
            raise TransferFailed(f"the file could not be written ({exc.strerror or exc})") from exc
        except BaseException:
            await _settle(pending)
            self._discard(path)
            raise
        finally:
            writer.shutdown(wait=False)
        return Received(path, digest.hexdigest(), size, head)

    def import_file(self, source: Path) -> Received:
        """Copy a local file (one we send) into quarantine, hashing it; then ``release`` it."""
        self._ensure()
        path = self.quarantine / f"outgoing-{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out, source.open("rb") as data:
                while chunk := data.read(256 * 1024):
                    size += len(chunk)
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
        except OSError as exc:
            self._discard(path)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise TransferFailed("the disk is full") from exc
            raise TransferFailed(f"{source.name} could not be copied ({exc.strerror or exc})") from exc
        return Received(path, digest.hexdigest(), size, head)

    def release(self, received: Received) -> Path:
        """Move a checked file out of quarantine into the store; a copy already there is reused."""
        target = self.files / received.sha256[:2] / received.sha256
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.exists():
            self._discard(received.path)
        else:
            os.replace(received.path, target)
        return target

    def discard(self, received: Received) -> None:
        self._discard(received.path)

    def delete_contents(self, hashes: Sequence[str]) -> None:
        """Delete stored files by hash (retention: the last message referring to each one is gone)."""
        for sha256 in hashes:
            self._discard(self.files / sha256[:2] / sha256)

    @staticmethod
    def _discard(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
