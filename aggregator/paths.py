"""Where one profile keeps its files.

``--home DIR`` (or ``AGGREGATOR_HOME``) puts everything for one profile under DIR; otherwise the
platform's config and data directories for "aggregator" are used.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "aggregator"
HOME_ENV = "AGGREGATOR_HOME"
_MAX_SOCKET_PATH = 100
#: platformdirs >= 4.13 warns (on stderr, at every command) when XDG_RUNTIME_DIR is unset and it falls
#: back to a private directory of its own; older versions fall back silently.
_RUNTIME_WARNING: type[Warning] = getattr(platformdirs, "RuntimeDirWarning", UserWarning)

log = logging.getLogger(__name__)


def _runtime_dir() -> Path:
    """platformdirs' runtime dir for the app. Without XDG_RUNTIME_DIR (a cron job, ``su``, a container)
    its fallback is a directory only the user can use, which is all the lock file and the control
    socket need: that is said in the log, not as a warning on every command."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", _RUNTIME_WARNING)
        try:
            path = Path(platformdirs.user_runtime_dir(APP_NAME))
        except OSError as exc:
            # Its own fallback in the temporary directory is unsafe (another user's, a symlink): ours
            # is in the user's state directory, private (0700) like a runtime dir.
            path = Path(platformdirs.user_state_dir(APP_NAME)) / "run"
            log.debug("No safe runtime directory (%s); using %s", exc, path)
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(path, 0o700)
    for w in caught:
        log.debug("%s", w.message)
    return path


@dataclass(frozen=True, slots=True)
class ProfilePaths:
    config_dir: Path
    data_dir: Path
    runtime_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> ProfilePaths:
        chosen = home if home is not None else os.environ.get(HOME_ENV) or None
        if chosen is not None:
            root = Path(chosen).expanduser().absolute()
            return cls(config_dir=root / "config", data_dir=root / "data", runtime_dir=root / "run")
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
            runtime_dir=_runtime_dir(),
        )

    @property
    def accounts_file(self) -> Path:
        return self.config_dir / "accounts.json"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def profile_file(self) -> Path:
        return self.config_dir / "profile.json"

    @property
    def archive_file(self) -> Path:
        return self.data_dir / "archive.sqlite3"

    @property
    def lock_file(self) -> Path:
        return self.runtime_dir / "instance.lock"

    @property
    def control_socket(self) -> Path:
        """The control socket; in a private directory under /tmp when the natural path is too long
        for a Unix socket address (about 107 bytes)."""
        natural = self.runtime_dir / "control.sock"
        if len(os.fsencode(natural)) <= _MAX_SOCKET_PATH:
            return natural
        digest = hashlib.sha256(os.fsencode(self.runtime_dir)).hexdigest()[:20]
        return Path(tempfile.gettempdir()) / f"aggregator-{os.getuid()}" / f"{digest}.sock"

    def account_data_dir(self, account_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in account_id)
        return self.data_dir / "accounts" / safe

    def ensure(self) -> None:
        """Create the profile's directories, private to the user; make everything already in them
        owner-only too (a profile of an older version, a library that created a file 0644)."""
        for d in (self.config_dir, self.data_dir, self.runtime_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(d, 0o700)
            make_private(d)


def make_private(root: Path) -> int:
    """Take every group and other permission off the files and directories under ``root`` (symbolic
    links are left alone, never followed). Returns how many were changed."""
    changed = 0
    for top, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue  # gone meanwhile (a journal file)
            if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
                changed += 1
    if changed:
        log.info("Made %d files and directories under %s private to the user", changed, root)
    return changed
