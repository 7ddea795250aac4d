"""A small real file system for full-disk tests: a tmpfs the test mounts (as root) and unmounts after.

``fill()`` takes every free byte with a filler file (the next write of anyone on that file system
fails with ENOSPC, as on a real full disk); ``free()`` deletes it again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

FILLER = ".filler"
_CHUNK = 64 * 1024


class SmallDisk:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def filler(self) -> Path:
        return self.root / FILLER

    def free_bytes(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Write the filler until at most ``leave`` bytes are free (0: the disk is full)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            chunk = b"\0" * _CHUNK
            while (room := self.free_bytes() - leave) > 0:
                try:
                    os.write(fd, chunk[: min(_CHUNK, room)] if leave else chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
            if not leave:  # the last pages too, a byte at a time
                with contextlib.suppress(OSError):
                    while os.write(fd, b"\0"):
                        pass
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


@contextlib.contextmanager
def small_disk(mount_point: Path, size: str = "16m") -> Iterator[SmallDisk]:
    """Mount a tmpfs of ``size`` at ``mount_point`` (created) for the duration; needs root."""
    mount_point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"full-disk tests mount a tmpfs and need root: mount failed: {done.stderr.strip()}")
    try:
        yield SmallDisk(mount_point)
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)
