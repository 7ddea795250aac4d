"""A small file system the test mounts itself (tmpfs), to be filled up while the client writes to it.

Mounting needs root (the CI machine runs the tests as root). The file system is always unmounted when
the ``with`` block ends, lazily if a process still holds a file on it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK = 1 << 20
PAGE = 4096


class SmallDisk:
    """A mounted tmpfs of a fixed size; ``fill()`` takes its free space, ``free()`` gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler.bin"

    @classmethod
    @contextlib.contextmanager
    def mounted(cls, path: Path, *, size_mib: int) -> Iterator[SmallDisk]:
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(path)],
            check=True,
            capture_output=True,
        )
        try:
            yield cls(path)
        finally:
            done = subprocess.run(["umount", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                log.warning("umount %s failed (%s); unmounting lazily", path, done.stderr.decode(errors="replace"))
                subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)

    def available(self) -> int:
        return shutil.disk_usage(self.path).free

    def fill(self, leave: int = 0) -> None:
        """Writes a filler file until the disk is full, then gives back ``leave`` bytes of it."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (CHUNK, PAGE):
                block = b"\0" * size
                while True:
                    try:
                        os.write(fd, block)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
            if leave:
                os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
        finally:
            os.close(fd)
        assert self.available() <= leave + PAGE, f"the disk is not full: {self.available()} bytes free"

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)
