"""Where one profile keeps its files.

``--home DIR`` (or ``AGGREGATOR_HOME``) puts everything for one profile under DIR; otherwise the
platform's config and data directories for "aggregator" are used.
"""

from __future__ import annotations

import hashlib
import logging
import os
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
        path = Path(platformdirs.user_runtime_dir(APP_NAME))
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
        """Create the profile's directories, private to the user."""
        for d in (self.config_dir, self.data_dir, self.runtime_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(d, 0o700)
