"""The profile: its id (namespaces keyring entries) and the single-instance lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import uuid
from pathlib import Path

from aggregator.accounts.config import write_private_json
from aggregator.api import AggregatorError
from aggregator.paths import ProfilePaths


class ProfileLockedError(AggregatorError):
    """Another process runs this profile."""


def profile_id(paths: ProfilePaths) -> str:
    """A random id made on first use, so that two profiles never share keyring entries."""
    path = paths.profile_file
    if path.exists():
        with contextlib.suppress(OSError, ValueError, KeyError):
            return str(json.loads(path.read_text(encoding="utf-8"))["id"])
    new_id = uuid.uuid4().hex
    paths.ensure()
    write_private_json(path, {"id": new_id})
    return new_id


class InstanceLock:
    """An exclusive ``flock`` on the profile's lock file, held while an instance runs."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def holder_pid(self) -> int | None:
        try:
            text = self._path.read_text(encoding="utf-8").strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def is_held_elsewhere(self) -> bool:
        if not self._path.exists():
            return False
        fd = os.open(self._path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                pid = self.holder_pid()
                who = f" (pid {pid})" if pid else ""
                raise ProfileLockedError(f"the profile is in use by another running instance{who}") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
