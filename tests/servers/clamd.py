"""A throwaway ClamAV daemon (Debian's ``clamav-daemon``) offline, on a UNIX socket in a temp dir.

No signatures are downloaded: the database directory holds one hash signature the test writes, for the
EICAR test file (recipe: ``../shared/facts/servers.md`` §5). clamd refuses to write its temporary files
into a directory the ``clamav`` user cannot write, so the scratch directory is handed to that user when we
run as root. A daemon that does not start raises ``ClamdError`` with the tail of its log.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

#: The EICAR anti-virus test file: harmless, and every scanner reports it. Built from two halves so that
#: no scanner on a developer's machine quarantines this source file.
EICAR = (
    b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR"
    + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
)
SIGNATURE_NAME = "Aggregator.Test.EICAR"


class ClamdError(RuntimeError):
    """The test clamd could not be started."""


class ClamdServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "clamd.sock"
        self.log = root / "clamd.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def start(self, timeout: float = 30) -> None:
        clamd = shutil.which("clamd") or "/usr/sbin/clamd"
        if not Path(clamd).exists():
            raise ClamdError("clamd is missing: install Debian's clamav-daemon")
        database = self.root / "db"
        database.mkdir(parents=True, exist_ok=True)
        digest = hashlib.md5(EICAR).hexdigest()  # ClamAV's .hdb format is MD5 by definition
        (database / "test.hdb").write_text(f"{digest}:{len(EICAR)}:{SIGNATURE_NAME}\n")
        config = self.root / "clamd.conf"
        config.write_text(
            "\n".join(
                [
                    f"DatabaseDirectory {database}",
                    f"LocalSocket {self.socket}",
                    "Foreground yes",
                    f"LogFile {self.log}",
                    f"PidFile {self.root / 'clamd.pid'}",
                    f"TemporaryDirectory {self.root}",
                    "StreamMaxLength 100M",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            entry = pwd.getpwnam("clamav")
            for path in (self.root, database, *database.iterdir(), config):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._proc = subprocess.Popen(
            [clamd, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self._proc.poll() is not None:
                raise ClamdError(f"clamd exited with {self._proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ClamdError(f"clamd did not open its socket in {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
