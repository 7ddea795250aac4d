"""A throwaway PostgreSQL (Debian's ``postgresql-15``) in a temp dir on a free loopback port.

Run as root (the test machine and CI): ``initdb`` and ``postgres`` refuse to run as root, so they run as
the ``postgres`` user (``runuser``) in a directory it owns. Trust authentication, loopback only; a
fresh database per test (``new_database``). A server that does not start raises ``PostgresError`` with
the tail of its log (the fixtures turn that into a failure, never a skip).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"


class PostgresError(RuntimeError):
    """The test PostgreSQL could not be started or used."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sock"
        self.log = root / "postgres.log"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def _as_postgres(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresError("running as root without runuser: cannot start PostgreSQL as 'postgres'")
        return [runuser, "-u", USER, "--"]

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def start(self, timeout: float = 30) -> None:
        if not (PG_BIN / "initdb").exists():
            raise PostgresError(f"{PG_BIN}/initdb is missing: install Debian's postgresql-15")
        for path in (self.root, self.sockets):
            path.mkdir(parents=True, exist_ok=True)
            self._chown(path)
        os.chmod(self.root, 0o755)
        self.log.touch()
        self._chown(self.log)
        prefix = self._as_postgres()
        init = subprocess.run(
            [
                *prefix,
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ],
            capture_output=True,
            check=False,
        )
        if init.returncode != 0:
            raise PostgresError(f"initdb failed ({init.returncode}): {init.stderr.decode(errors='replace')[-2000:]}")
        self.port = _free_port()
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    *prefix,
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(self.data),
                    "-k",
                    str(self.sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-p",
                    str(self.port),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise PostgresError(f"postgres exited with {self._proc.returncode}:\n{self.log_tail()}")
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PostgresError(
                        f"postgres did not accept connections in {timeout} s ({exc}):\n{self.log_tail()}"
                    ) from exc
                time.sleep(0.1)

    @property
    def admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 driver)."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        try:
            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise PostgresError(f"CREATE DATABASE failed: {exc}\n{self.log_tail()}") from exc
        return self.url(name)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # ``pg_ctl stop -m fast`` as ``postgres``: a signal to ``runuser`` would not reach the server.
        subprocess.run(
            [
                *self._as_postgres(),
                str(PG_BIN / "pg_ctl"),
                "stop",
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "-t",
                "20",
            ],
            capture_output=True,
            check=False,
        )
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
