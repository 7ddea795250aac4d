"""End-to-end fixtures: the real ``aggregator`` console script in subprocesses, against a FakeServer
running on the test's own event loop.

Every subprocess is started with ``asyncio.create_subprocess_exec`` so that the FakeServer keeps
serving while a command runs. Each test gets a fresh profile directory and fresh, randomly named users.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import pytest

from protocols.fake.server import FakeServer
from tests.conftest import cli_env

#: The console script installed next to the interpreter running the tests (the project's venv).
AGGREGATOR = Path(sys.executable).with_name("aggregator")
KEYRING_SERVICE = "aggregator"
FAST_RECONNECT = {"reconnect_initial_delay": 0.2, "reconnect_max_delay": 1.0}
COMMAND_TIMEOUT = 30.0

Message = dict[str, Any]


# ---------------------------------------------------------------------------------------- servers


class CountingServer(FakeServer):
    """A FakeServer that also counts the TCP connections it accepted (each login attempt is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await super()._handle(reader, writer)


@dataclass(frozen=True, slots=True)
class User:
    address: str
    password: str

    @property
    def account_id(self) -> str:
        return f"fake:{self.address}"


@dataclass(frozen=True, slots=True)
class Users:
    alice: User
    bob: User
    carol: User


@pytest.fixture
async def server() -> AsyncIterator[CountingServer]:
    started = CountingServer()
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
def users(server: CountingServer) -> Users:
    """alice, bob and carol with random names and passwords, registered on ``server``."""
    tag = secrets.token_hex(4)
    made = {}
    for name in ("alice", "bob", "carol"):
        password = f"{name}-pw-{secrets.token_hex(6)}"
        made[name] = User(server.add_user(f"{name}-{tag}@fake.test", password), password)
    return Users(**made)


# -------------------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Result:
    args: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"aggregator {' '.join(self.args)} -> {self.rc}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"

    def ok(self) -> Result:
        assert self.rc == 0, str(self)
        return self

    def error_line(self, rc: int) -> str:
        """Asserts exit code ``rc`` and exactly one line on stderr; returns that line."""
        assert self.rc == rc, str(self)
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected a one-line reason on stderr\n{self}"
        return lines[0]


class Headless:
    """A running ``aggregator run --headless``; collects its output lines as they come."""

    def __init__(self, proc: asyncio.subprocess.Process, args: tuple[str, ...]) -> None:
        self.proc = proc
        self.args = args
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._changed = asyncio.Event()
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(proc.stdout, self.lines)),
            asyncio.create_task(self._read(proc.stderr, self.errors)),
        ]

    async def _read(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        while line := await stream.readline():
            into.append(line.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    def output(self) -> str:
        return "\n".join(["--- stdout", *self.lines, "--- stderr", *self.errors])

    def matching(self, pattern: str, start: int = 0) -> list[str]:
        return [line for line in self.lines[start:] if re.search(pattern, line)]

    async def wait_line(self, pattern: str, *, start: int = 0, timeout: float = 10.0) -> int:
        """Waits for an output line (from index ``start`` on) matching ``pattern``; returns its index."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(start, len(self.lines)):
                if re.search(pattern, self.lines[index]):
                    return index
            if all(reader.done() for reader in self._readers):
                raise AssertionError(
                    f"headless exited ({self.proc.returncode}) before printing /{pattern}/\n{self.output()}"
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line /{pattern}/ within {timeout} s\n{self.output()}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_state(self, user: User, state: str, *, start: int = 0, timeout: float = 10.0) -> int:
        return await self.wait_line(state_pattern(user, state), start=start, timeout=timeout)

    async def finish(self, timeout: float = 15.0) -> int:
        """Waits for the process to exit and its output to be read; returns the exit code."""
        try:
            rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            await asyncio.gather(*self._readers)
            raise AssertionError(f"headless did not exit within {timeout} s of the signal\n{self.output()}") from None
        await asyncio.gather(*self._readers)
        return rc

    async def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 15.0) -> int:
        if self.running:
            self.proc.send_signal(sig)
        return await self.finish(timeout)

    async def kill(self) -> None:
        if self.running:
            self.proc.kill()
        await self.finish()


def state_pattern(user: User, state: str) -> str:
    """A headless state line: ``<UTC time> <account id>: <state>[: reason][; retrying in N s]``."""
    return rf"^\S+ {re.escape(user.account_id)}: {state}\b"


@dataclass
class Profile:
    """One fresh profile directory, and the commands run on it (all recorded in ``transcript``)."""

    home: Path
    #: Global options put before every command (``-vv`` for the secrets test).
    global_args: tuple[str, ...] = ()
    transcript: list[Result] = field(default_factory=list)
    instances: list[Headless] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = cli_env(self.home)
        env.pop("PYTHON_KEYRING_BACKEND", None)
        return env

    @property
    def accounts_file(self) -> Path:
        return self.home / "config" / "accounts.json"

    @property
    def archive_file(self) -> Path:
        return self.home / "data" / "archive.sqlite3"

    @property
    def control_socket(self) -> Path:
        return self.home / "run" / "control.sock"

    def write_settings(self, settings: dict[str, float]) -> None:
        config = self.home / "config"
        config.mkdir(mode=0o700, exist_ok=True)
        (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")

    async def run(
        self,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> Result:
        argv = (*self.global_args, *args)
        proc = await asyncio.create_subprocess_exec(
            str(AGGREGATOR),
            *argv,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env | (env or {}),
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(None if stdin is None else stdin.encode()), timeout)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            raise AssertionError(
                f"aggregator {' '.join(argv)} did not finish within {timeout} s\n{out.decode()}\n{err.decode()}"
            ) from None
        assert proc.returncode is not None
        result = Result(argv, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
        self.transcript.append(result)
        return result

    async def add(self, user: User, server: FakeServer, *extra: str, password: str | None = None) -> Result:
        """``account add fake ADDRESS --server ... --allow-plaintext --password-stdin``; must succeed."""
        result = await self.run(
            "account",
            "add",
            "fake",
            user.address,
            "--server",
            server.address,
            "--allow-plaintext",
            "--password-stdin",
            *extra,
            stdin=(user.password if password is None else password) + "\n",
        )
        result.ok()
        assert user.account_id in result.stdout, str(result)
        return result

    async def headless(self, *extra: str, connected: User | None = None) -> Headless:
        """Starts ``run --headless``; with ``connected``, waits until that account is connected."""
        argv = (*self.global_args, "run", "--headless", *extra)
        proc = await asyncio.create_subprocess_exec(
            str(AGGREGATOR),
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        instance = Headless(proc, argv)
        self.instances.append(instance)
        if connected is not None:
            await instance.wait_state(connected, "connected")
        return instance

    async def history(self, peer: User | str, *extra: str) -> list[Message]:
        address = peer.address if isinstance(peer, User) else peer
        result = (await self.run("history", "--with", address, "--json", *extra)).ok()
        messages: list[Message] = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        return messages

    async def wait_history(
        self,
        peer: User | str,
        until: Callable[[list[Message]], bool],
        *extra: str,
        timeout: float = 10.0,
    ) -> list[Message]:
        """Polls ``history --json`` until ``until(messages)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.history(peer, *extra)
            if until(messages):
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"history never matched within {timeout} s; last: {messages}")
            await asyncio.sleep(0.1)

    def profile_id(self) -> str | None:
        path = self.home / "config" / "profile.json"
        if not path.exists():
            return None
        return str(json.loads(path.read_text(encoding="utf-8"))["id"])

    def keyring_password(self, user: User) -> str | None:
        """The password stored in the keyring for ``user``'s account on this profile, if any."""
        pid = self.profile_id()
        if pid is None:
            return None
        value = keyring.get_password(KEYRING_SERVICE, f"{pid}/{user.account_id}/password")
        return None if value is None else str(value)

    def accounts_bytes(self) -> bytes | None:
        return self.accounts_file.read_bytes() if self.accounts_file.exists() else None


@contextlib.asynccontextmanager
async def fresh_profile(home: Path) -> AsyncIterator[Profile]:
    """A fresh profile at ``home`` with quick reconnects; headless instances left running are killed
    on leaving."""
    made = Profile(home)
    made.write_settings(FAST_RECONNECT)
    try:
        yield made
    finally:
        for instance in made.instances:
            await instance.kill()


@pytest.fixture
async def profile(tmp_home: Path, keyring_env: None) -> AsyncIterator[Profile]:
    """A fresh profile with quick reconnects; headless instances left running are killed at the end."""
    async with fresh_profile(tmp_home) as made:
        yield made


async def wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``aggregator ARGS`` in UTC, waited for (for the commands that touch only the archive: import,
    history, search, export)."""
    return subprocess.run(
        [str(AGGREGATOR), *args],
        env=cli_env(home) | {"TZ": "UTC"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
