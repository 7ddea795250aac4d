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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aggregator.api import AggregatorError, ConfigurationError
from aggregator.control import window_ops
from aggregator.control.protocol import MAX_REQUEST, decode, encode

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


#: Answers one decoded request (``aggregator.app.requests.Requests.handle``).
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class ControlServer:
    """The control socket's transport: owner-only, one JSON request and one reply per connection. What a
    request does is the application layer's business (``handler``)."""

    def __init__(self, handler: Handler, path: Path) -> None:
        self._handler = handler
        self._path = path
        self._server: asyncio.AbstractServer | None = None
        #: The GUI's window (``window.raise`` / ``window.open``); None in a headless instance.
        self.window: window_ops.WindowHandler | None = None

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
        if request.get("op") in window_ops.OPS:  # the GUI's window (raise, open a link), not the core
            return window_ops.run(self.window, request)
        return await self._handler(request)
