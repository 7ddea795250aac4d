"""Ask a ClamAV daemon whether a file is clean, over its socket (the INSTREAM command).

The protocol: send ``zINSTREAM\\0``, then the content as chunks each prefixed with its length (4 bytes, big
endian), then a zero length; the daemon answers one line ending in NUL: ``stream: OK``, ``stream: NAME
FOUND`` or ``... ERROR``. The file is streamed from disk in chunks, so memory stays flat whatever its size.
A daemon that cannot be reached, times out or answers an error gives ``ScanOutcome.UNAVAILABLE`` with the
reason: the caller keeps the file held (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
DEFAULT_TIMEOUT = 120.0


class ScanOutcome(enum.StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class ScanResult:
    outcome: ScanOutcome
    detail: str = ""  # the signature's name when infected, the reason when unavailable


def parse_reply(reply: bytes) -> ScanResult:
    text = reply.rstrip(b"\0\n").decode("utf-8", "replace").strip()
    _, _, verdict = text.partition(": ")
    verdict = verdict or text
    if verdict == "OK":
        return ScanResult(ScanOutcome.CLEAN)
    if verdict.endswith(" FOUND"):
        return ScanResult(ScanOutcome.INFECTED, verdict.removesuffix(" FOUND"))
    return ScanResult(ScanOutcome.UNAVAILABLE, f"the virus scanner answered: {verdict or 'nothing'}")


async def scan_file(socket_path: Path, path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> ScanResult:
    """Stream ``path`` to the clamd listening on the UNIX socket ``socket_path``."""
    try:
        return await asyncio.wait_for(_scan(socket_path, path), timeout)
    except TimeoutError:
        return ScanResult(ScanOutcome.UNAVAILABLE, f"the virus scanner did not answer within {timeout:g} s")
    except OSError as exc:
        log.warning("clamd at %s unreachable: %s", socket_path, exc)
        return ScanResult(ScanOutcome.UNAVAILABLE, f"the virus scanner cannot be reached ({exc.strerror or exc})")


async def _scan(socket_path: Path, path: Path) -> ScanResult:
    reader, writer = await asyncio.open_unix_connection(str(socket_path))
    try:
        writer.write(b"zINSTREAM\0")
        with path.open("rb") as source:
            while chunk := source.read(CHUNK_BYTES):
                writer.write(struct.pack(">I", len(chunk)) + chunk)
                await writer.drain()
        writer.write(struct.pack(">I", 0))
        await writer.drain()
        reply = await reader.readuntil(b"\0")
    except asyncio.IncompleteReadError as exc:
        return parse_reply(exc.partial) if exc.partial else ScanResult(
            ScanOutcome.UNAVAILABLE, "the virus scanner closed the connection without an answer"
        )
    except ConnectionResetError:
        # clamd answers "INSTREAM size limit exceeded" and closes while we are still sending.
        partial = await _read_rest(reader)
        return parse_reply(partial) if partial else ScanResult(
            ScanOutcome.UNAVAILABLE, "the virus scanner closed the connection (file too large for it?)"
        )
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return parse_reply(reply)


async def _read_rest(reader: asyncio.StreamReader) -> bytes:
    try:
        return await asyncio.wait_for(reader.read(4096), 1.0)
    except (OSError, TimeoutError):
        return b""
