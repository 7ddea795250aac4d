"""A Prosody (Debian package) instance for tests: loopback only, free ports, its own data directory.

The config is the verified one from ``facts/servers.md`` section 1 (``run_as_root``, short smacks
hibernation, MAM, carbons, MUC with MUC-MAM, HTTP file share). Prosody runs as a direct child of the
test process (``prosody -F``), so stopping it needs no zombie handling. ``stop()`` and ``start()``
restart the same instance on the same ports with the same users (for reconnect tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers.certs import TestCerts

DOMAIN = "localhost"
MUC_DOMAIN = "conference.localhost"
#: A second VirtualHost: users of "another organisation" on the same server (policy tests).
OUTSIDE_DOMAIN = "outside.test"
HOST = "127.0.0.1"
#: Seconds to wait for the listeners and the pid file after spawning, and for an exit after SIGTERM.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

_CONFIG = """\
-- Written by tests/servers/prosody.py for one test instance.
run_as_root = true                 -- mod_posix refuses uid 0 otherwise (and crashes half-started)
data_path = "{data}"
pidfile   = "{pidfile}"
log = {{ {{ levels = {{ min = "{log_level}" }}, to = "file", filename = "{logfile}" }} }}

interfaces            = {{ "{host}" }}
local_interfaces      = {{ "{host}" }}
c2s_ports             = {{ {c2s_port} }}
c2s_direct_tls_ports  = {{ {tls_port} }}
s2s_ports             = {{ }}
http_ports            = {{ {http_port} }}
http_interfaces       = {{ "{host}" }}
https_ports           = {{ {https_port} }}
https_interfaces      = {{ "{host}" }}
https_ssl             = {{ certificate = "{cert_file}"; key = "{key_file}"; }}
http_default_host     = "upload.localhost"

admins = {{ }}

modules_enabled = {{
  "roster"; "saslauth"; "tls"; "disco";
  "carbons"; "mam"; "smacks"; "ping";
  "pep"; "vcard4"; "vcard_legacy"; "private"; "bookmarks";
  "blocklist"; "csi_simple"; "time"; "version"; "uptime";
  "register";
}}
modules_disabled = {{ "s2s" }}

allow_registration = true
min_seconds_between_registrations = 0
c2s_require_encryption = true
c2s_stanza_size_limit = 4 * 1024 * 1024   -- tests send 1 MB bodies (the default is 256 KiB)
smacks_hibernation_time = 30
authentication = "internal_hashed"
storage = "internal"
archive_expires_after = "never"
default_archive_policy = true

certificates = "{certs}"
ssl = {{ certificate = "{cert_file}"; key = "{key_file}"; }}

VirtualHost "localhost"

VirtualHost "outside.test"

Component "conference.localhost" "muc"
  modules_enabled = {{ "muc_mam" }}
  restrict_room_creation = false
  muc_room_default_persistent = true
  muc_room_default_history_length = 50

Component "upload.localhost" "http_file_share"
  http_file_share_size_limit = {upload_limit_mb} * 1024 * 1024   -- the file tests send 50 MB, bench.files 200
  http_file_share_daily_quota = 16 * 1024 * 1024 * 1024   -- bench.files uploads 200 MB files repeatedly
  http_external_url = "https://{host}:{https_port}/"   -- the test certificate names 127.0.0.1
"""


class ProsodyError(RuntimeError):
    """Prosody is missing, did not start, or a prosodyctl command failed. The message says why."""


@dataclass(frozen=True, slots=True)
class XmppUser:
    jid: str
    password: str

    @property
    def localpart(self) -> str:
        return self.jid.partition("@")[0]


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class ProsodyServer:
    """One Prosody instance. ``start()`` it, ``new_user()`` per test, ``stop()`` at the end."""

    def __init__(
        self, directory: Path, certs: TestCerts, *, log_level: str = "info", upload_limit_mb: int = 64
    ) -> None:
        for tool in ("prosody", "prosodyctl"):
            if shutil.which(tool) is None:
                raise ProsodyError(f"{tool} is not installed (apt-get install prosody); the XMPP tests need it")
        self.directory = directory
        self.certs = certs
        self.host = HOST
        self.domain = DOMAIN
        self.muc_domain = MUC_DOMAIN
        self.c2s_port = free_port()
        self.tls_port = free_port()
        self.http_port = free_port()
        self.https_port = free_port()  # XEP-0363 uploads (mod_http_file_share), with the test certificate
        self.config_file = directory / "prosody.cfg.lua"
        self.pid_file = directory / "prosody.pid"
        self.log_file = directory / "prosody.log"
        self._process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "data").mkdir(exist_ok=True)
        self.config_file.write_text(
            _CONFIG.format(
                data=directory / "data",
                pidfile=self.pid_file,
                logfile=self.log_file,
                log_level=log_level,
                host=HOST,
                c2s_port=self.c2s_port,
                tls_port=self.tls_port,
                http_port=self.http_port,
                https_port=self.https_port,
                upload_limit_mb=upload_limit_mb,
                certs=certs.directory,
                cert_file=certs.cert_file,
                key_file=certs.key_file,
            )
        )

    # ------------------------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process is not None else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log file)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def start(self) -> None:
        """Spawns Prosody and returns once c2s accepts connections and the pid file exists."""
        if self.running:
            return
        self.pid_file.unlink(missing_ok=True)
        output = (self.directory / "prosody.out").open("ab")
        try:
            self._process = subprocess.Popen(
                ["prosody", "--config", str(self.config_file), "-F"],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        finally:
            output.close()
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.01
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"prosody exited with status {self._process.returncode} while starting")
            if self.pid_file.exists() and _accepts(HOST, self.c2s_port) and _accepts(HOST, self.tls_port):
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        self._fail(f"prosody did not open port {self.c2s_port} and write its pid file within {START_TIMEOUT:g} s")

    def _fail(self, message: str) -> None:
        self.stop()
        output = self.directory / "prosody.out"
        printed = output.read_text(errors="replace").strip()[-2000:] if output.exists() else ""
        raise ProsodyError(
            f"{message}.\n--- tail of {self.log_file} ---\n{self.log_tail()}"
            + (f"\n--- prosody's own output ---\n{printed}" if printed else "")
        )

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after ``STOP_TIMEOUT``). Idempotent."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)

    async def stop_async(self) -> None:
        """``stop()`` for tests with clients on the same event loop: they can answer the stream close
        while Prosody shuts down (a blocking wait would make Prosody wait for them instead)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        self.stop()  # reaps it, or kills it after the timeout

    def restart(self) -> None:
        self.stop()
        self.start()

    # ---------------------------------------------------------------------------------------- users

    def _prosodyctl_args(self, *args: str) -> list[str]:
        return ["prosodyctl", "--config", str(self.config_file), *args]

    def register(self, localpart: str, password: str, domain: str = DOMAIN) -> XmppUser:
        """Registers ``localpart@localhost`` (or on ``OUTSIDE_DOMAIN``; works while the server runs)."""
        result = subprocess.run(
            self._prosodyctl_args("register", localpart, domain, password),
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ | {"HOME": str(self.directory)},
        )
        if result.returncode != 0:
            raise ProsodyError(f"prosodyctl register {localpart} failed: {(result.stdout + result.stderr).strip()}")
        return XmppUser(f"{localpart}@{domain}", password)

    async def new_user(self, prefix: str = "user", domain: str = DOMAIN) -> XmppUser:
        """A fresh user with a random name and password, registered without blocking the event loop."""
        localpart = f"{prefix}-{secrets.token_hex(5)}"
        password = secrets.token_urlsafe(12)
        process = await asyncio.create_subprocess_exec(
            *self._prosodyctl_args("register", localpart, domain, password),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=os.environ | {"HOME": str(self.directory)},
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise ProsodyError(f"prosodyctl register {localpart} failed: {output.decode(errors='replace').strip()}")
        return XmppUser(f"{localpart}@{domain}", password)

    @property
    def starttls_address(self) -> str:
        return f"{HOST}:{self.c2s_port}"

    @property
    def direct_tls_address(self) -> str:
        return f"{HOST}:{self.tls_port}"
