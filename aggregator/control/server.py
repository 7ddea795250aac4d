"""The control socket server, run by a running instance (headless or GUI).

The socket lives in the profile's private runtime directory (0700), has mode 0600, and every peer's
uid is checked with SO_PEERCRED: only the owner can talk to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import struct
from pathlib import Path
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError
from aggregator.app import persons as roster_commands
from aggregator.app import rooms as room_commands
from aggregator.app import settings as prefs_commands
from aggregator.app import status as status_commands
from aggregator.app import trust as trust_commands
from aggregator.control.protocol import MAX_REQUEST, decode, encode, message_json
from aggregator.core import Core

log = logging.getLogger(__name__)


def _peer_uid(writer: asyncio.StreamWriter) -> int | None:
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _private_dir(path: Path) -> None:
    """Create (or check) a directory only we can enter; refuse one someone else controls."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise AggregatorError(f"{path} is not a directory owned by this user; refusing to put the control socket there")
    os.chmod(path, 0o700)


class ControlServer:
    def __init__(self, core: Core, path: Path) -> None:
        self._core = core
        self._path = path
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        _private_dir(self._path.parent)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # a stale socket from a killed instance; we hold the profile lock
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._handle, path=str(self._path), limit=MAX_REQUEST)
        finally:
            os.umask(old)
        os.chmod(self._path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            uid = _peer_uid(writer)
            if uid is not None and uid != os.getuid():
                log.warning("Refused a control connection from uid %s", uid)
                return
            line = await reader.readline()
            try:
                reply = await self._dispatch(decode(line))
            except (ValueError, KeyError, TypeError) as exc:
                reply = {"ok": False, "usage": True, "error": f"bad request: {exc}"}
            except ConfigurationError as exc:
                reply = {"ok": False, "usage": True, "error": str(exc)}
            except AggregatorError as exc:
                reply = {"ok": False, "error": str(exc)}
            writer.write(encode(reply))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("Control request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "pid": os.getpid()}
        if op == "accounts":
            return {
                "ok": True,
                "accounts": {a.id: self._core.accounts.state(a.id).value for a in self._core.accounts.configs()},
            }
        if op == "send":
            account_id = str(request["account"])
            if account_id not in {a.id for a in self._core.accounts.configs()}:
                raise ConfigurationError(f"the running instance has no account {account_id}")
            row = await self._core.outbound.send(
                account_id, str(request["to"]), str(request["text"]), confirmed=bool(request.get("confirm", False))
            )
            return {"ok": True, "message": message_json(row)}
        if op in status_commands.OPS:
            return await self._status(request)
        if op in roster_commands.OPS:
            return roster_commands.run(self._core.roster, request)
        if op in prefs_commands.OPS and self._core.prefs is not None:
            return prefs_commands.run(self._core.prefs, request)
        if op in room_commands.OPS:
            return await room_commands.run(self._core.rooms, request)
        if op in trust_commands.OPS:
            return await trust_commands.run(self._core, request)
        raise ValueError(f"unknown op {op!r}")

    async def _status(self, request: dict[str, Any]) -> dict[str, Any]:
        status = self._core.status
        if request["op"] == "status.set":
            account = request.get("account")
            if account and account not in {a.id for a in self._core.accounts.configs()}:
                raise ConfigurationError(f"the running instance has no account {account}")
            book = status_commands.changed_book(status.book, request)
            await status.replace_book(book)
        if request["op"] == "status.workhours":
            book = status_commands.changed_hours(status.book, request, status.now())
            if book != status.book:
                await status.replace_book(book)
            return {"ok": True, "workhours": status_commands.hours_json(status.book, status.now())}
        shown = {a.id: status.shown(a.id) for a in self._core.accounts.configs()}
        return {"ok": True, "status": status_commands.book_json(status.book, shown)}
