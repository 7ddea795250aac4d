"""A Synapse (Matrix homeserver) instance for tests: loopback only, a free port, its own directory.

The config is the verified template from ``facts/servers.md`` section 3: SQLite, the client API only
(no federation listener), rate limits raised, registration by shared secret only. Synapse runs from its
own venv (``.venv-synapse``, made by ``scripts/lib/bootstrap.sh``) as a direct child of the test process.
``stop()`` and ``start()`` restart the same instance on the same port with the same users and rooms
(for outage tests). Users are made with the shared-secret admin API (HMAC), ~20 ms each.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
SERVER_NAME = "localhost"
#: Seconds to wait for ``/versions`` after spawning (the import alone takes ~2 s), and for an exit.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
#: ``.venv-synapse`` of the repository; ``SYNAPSE_PYTHON`` may point at another interpreter.
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = REPO_ROOT / ".venv-synapse" / "bin" / "python"

_RATE = "{per_second: 10000, burst_count: 10000}"

_CONFIG = f"""\
# Written by tests/servers/synapse.py for one test instance.
server_name: "{SERVER_NAME}"
public_baseurl: "http://{HOST}:@PORT@/"
pid_file: "@DIR@/homeserver.pid"
listeners:
  - port: @PORT@
    bind_addresses: ["{HOST}"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "@DIR@/homeserver.db"
log_config: "@DIR@/log.yaml"
media_store_path: "@DIR@/media_store"
max_upload_size: 300M   # bench.files moves 200 MB; the default is 50M
signing_key_path: "@DIR@/signing.key"
registration_shared_secret: "@SECRET@"
macaroon_secret_key: "@MACAROON@"
form_secret: "@FORM@"
report_stats: false
enable_metrics: false
enable_registration: false
bcrypt_rounds: 4
presence:
  enabled: true
url_preview_enabled: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
serve_server_wellknown: false
rc_message: {_RATE}
rc_registration: {_RATE}
rc_login:
  address: {_RATE}
  account: {_RATE}
  failed_attempts: {_RATE}
rc_joins:
  local: {_RATE}
  remote: {_RATE}
rc_joins_per_room: {_RATE}
rc_invites:
  per_room: {_RATE}
  per_user: {_RATE}
  per_issuer: {_RATE}
rc_room_creation: {_RATE}
rc_presence:
  per_user: {_RATE}
rc_admin_redaction: {_RATE}
rc_key_requests: {_RATE}
rc_3pid_validation: {_RATE}
rc_media_create: {_RATE}
rc_profile: {_RATE}
rc_user_directory: {_RATE}
rc_delayed_event_mgmt: {_RATE}
rc_reports: {_RATE}
"""

# Synapse's log to a file (not stderr), WARNING and up from the libraries, INFO from synapse itself.
_LOG_CONFIG = """\
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
filters:
  context:
    (): synapse.logging.context.LoggingContextFilter
    request: ""
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: "@DIR@/homeserver.log"
    filters: [context]
root:
  level: INFO
  handlers: [file]
loggers:
  twisted: {level: WARNING}
  synapse.storage.SQL: {level: WARNING}
  synapse.access.http: {level: WARNING}
disable_existing_loggers: false
"""


class SynapseError(RuntimeError):
    """Synapse is missing, did not start, or an admin request failed. The message says why."""


@dataclass(frozen=True, slots=True)
class MatrixUser:
    """A registered user with the access token and device that the registration made."""

    user_id: str
    password: str = field(repr=False)
    access_token: str = field(default="", repr=False)
    device_id: str = ""

    @property
    def localpart(self) -> str:
        return self.user_id[1:].partition(":")[0]


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


class SynapseServer:
    """One Synapse instance. ``start()`` it, ``new_user()`` per test, ``stop()`` at the end."""

    def __init__(self, directory: Path, *, python: Path | None = None) -> None:
        self.python = python or Path(os.environ.get("SYNAPSE_PYTHON", DEFAULT_PYTHON))
        if not self.python.exists():
            raise SynapseError(
                f"{self.python} does not exist: Synapse is not installed. "
                "Run scripts/test (or `source scripts/lib/bootstrap.sh; bootstrap_synapse_venv`) to make .venv-synapse"
            )
        self.directory = directory
        self.host = HOST
        self.server_name = SERVER_NAME
        self.port = free_port()
        self.shared_secret = secrets.token_hex(16)
        self.config_file = directory / "homeserver.yaml"
        self.log_file = directory / "homeserver.log"
        self.output_file = directory / "homeserver.out"
        self._process: subprocess.Popen[bytes] | None = None
        self._admin_token: str | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "media_store").mkdir(exist_ok=True)
        substitutions = {
            "@DIR@": str(directory),
            "@PORT@": str(self.port),
            "@SECRET@": self.shared_secret,
            "@MACAROON@": secrets.token_hex(16),
            "@FORM@": secrets.token_hex(16),
        }
        config, log_config = _CONFIG, _LOG_CONFIG
        for placeholder, value in substitutions.items():
            config = config.replace(placeholder, value)
            log_config = log_config.replace(placeholder, value)
        self.config_file.write_text(config)
        (directory / "log.yaml").write_text(log_config)
        # Same format as `--generate-keys` writes, without its ~2 s of imports.
        key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
        (directory / "signing.key").write_text(f"ed25519 a_test {key}\n")

    @property
    def url(self) -> str:
        """The homeserver URL clients use (plain http on loopback)."""
        return f"http://{HOST}:{self.port}"

    # ------------------------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.log_file, self.output_file):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            tail = "\n".join(text.splitlines()[-lines:])
            if tail:
                parts.append(f"--- tail of {path} ---\n{tail}")
        return "\n".join(parts) or "(no log output)"

    def _versions_ok(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def start(self) -> None:
        """Spawns Synapse and returns once ``/_matrix/client/versions`` answers 200 (~1.7 s)."""
        if self.running:
            return
        output = self.output_file.open("ab")
        try:
            self._process = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        except OSError as exc:
            raise SynapseError(f"cannot run {self.python}: {exc}") from None
        finally:
            output.close()
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.02
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"synapse exited with status {self._process.returncode} while starting")
            if self._versions_ok():
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        self._fail(f"synapse did not answer {self.url}/_matrix/client/versions within {START_TIMEOUT:g} s")

    def _fail(self, message: str) -> None:
        self.stop()
        raise SynapseError(f"{message}.\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after ``STOP_TIMEOUT``). Idempotent. Keeps the data."""
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
        """``stop()`` without blocking the event loop of the test's clients."""
        await asyncio.to_thread(self.stop)

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    # ---------------------------------------------------------------------------------------- users

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise SynapseError(f"{method} {path} failed: HTTP {exc.code} {detail}") from None
        except OSError as exc:
            raise SynapseError(f"{method} {path} failed: {exc}\n{self.log_tail(10)}") from None

    def register(self, localpart: str, password: str, *, admin: bool = False) -> MatrixUser:
        """Registers ``@localpart:localhost`` with the shared secret (works while the server runs)."""
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        message = "\x00".join((nonce, localpart, password, "admin" if admin else "notadmin"))
        mac = hmac.new(self.shared_secret.encode(), message.encode(), hashlib.sha1)
        reply = self._request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
        )
        return MatrixUser(reply["user_id"], password, reply["access_token"], reply["device_id"])

    async def new_user(self, prefix: str = "user") -> MatrixUser:
        """A fresh user with a random name and password (registration runs off the event loop)."""
        localpart = f"{prefix}-{secrets.token_hex(5)}"
        return await asyncio.to_thread(self.register, localpart, secrets.token_urlsafe(12))

    def admin_token(self) -> str:
        """The access token of a server admin (made on first use) for ``/_synapse/admin`` calls."""
        if self._admin_token is None:
            admin = self.register(f"admin-{secrets.token_hex(4)}", secrets.token_urlsafe(12), admin=True)
            self._admin_token = admin.access_token
        return self._admin_token

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        """A client-server API request (JSON in, JSON out) off the event loop; ``SynapseError`` if it fails."""
        return await asyncio.to_thread(self._request, method, path, body, token)

    async def devices(self, user_id: str) -> list[dict[str, Any]]:
        """The user's devices, as the admin API lists them."""
        token = await asyncio.to_thread(self.admin_token)
        path = f"/_synapse/admin/v2/users/{urllib.parse.quote(user_id, safe='')}/devices"
        reply = await asyncio.to_thread(self._request, "GET", path, None, token)
        devices: list[dict[str, Any]] = reply["devices"]
        return devices
