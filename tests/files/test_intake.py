"""A received file from offer to verdict, with a real clamd (issue 16, items 4, 5 and 8)."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from aggregator.files.clamd import ScanResult, scan_file
from aggregator.files.intake import Offer, Scanner, take_in
from aggregator.files.model import AttachmentState
from aggregator.files.rules import FileMode, FileRules
from aggregator.files.store import FileStore
from tests.servers.clamd import EICAR, SIGNATURE_NAME, ClamdServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
SCAN = FileRules(mode=FileMode.SCAN, max_file_mb=5, blocked_extensions=frozenset({"exe"}), scan_required=True)


def _source(data: bytes, chunk: int = 4096) -> Callable[[], AsyncIterator[bytes]]:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(data), chunk):
            yield data[i : i + chunk]

    return chunks


def _clamd(server: ClamdServer) -> Scanner:
    async def scanner(path: Path) -> ScanResult:
        return await scan_file(server.socket, path)

    return scanner


def _quarantined(store: FileStore) -> list[Path]:
    return sorted(store.quarantine.iterdir()) if store.quarantine.exists() else []


async def test_a_clean_picture_is_scanned_stored_by_hash_and_openable(
    clamd_server: ClamdServer, tmp_path: Path
) -> None:
    store = FileStore(tmp_path / "files")
    offer = Offer(name="../../holiday.png", size=len(PNG), mime_type="image/png")
    attachment = await take_in(offer, _source(PNG), rules=SCAN, store=store, scanner=_clamd(clamd_server))
    assert attachment.state is AttachmentState.CLEAN and attachment.state.openable
    assert attachment.name == "holiday.png"
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert attachment.local_path is not None and attachment.local_path.read_bytes() == PNG
    assert stat.S_IMODE(attachment.local_path.stat().st_mode) == 0o600
    assert _quarantined(store) == []


async def test_the_same_file_twice_is_kept_once(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    rules = FileRules()
    first = await take_in(
        Offer(name="a.png", size=None, mime_type=None), _source(PNG), rules=rules, store=store, scanner=None
    )
    second = await take_in(
        Offer(name="b.png", size=None, mime_type=None), _source(PNG), rules=rules, store=store, scanner=None
    )
    assert first.local_path == second.local_path
    assert len(list(store.files.rglob("*"))) == 2  # one folder, one file


async def test_eicar_stays_quarantined_with_the_signature_named(clamd_server: ClamdServer, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    offer = Offer(name="invoice.pdf", size=len(EICAR), mime_type="application/pdf")
    attachment = await take_in(offer, _source(EICAR), rules=SCAN, store=store, scanner=_clamd(clamd_server))
    assert attachment.state is AttachmentState.INFECTED and not attachment.state.openable
    assert SIGNATURE_NAME in attachment.reason
    assert attachment.local_path is not None and attachment.local_path.parent == store.quarantine
    assert not store.files.exists() or list(store.files.rglob("*")) == []


async def test_an_unreachable_scanner_keeps_the_file_held(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")

    async def down(path: Path) -> ScanResult:
        return await scan_file(tmp_path / "no-clamd.sock", path)

    attachment = await take_in(
        Offer(name="a.png", size=None, mime_type="image/png"), _source(PNG), rules=SCAN, store=store, scanner=down
    )
    assert attachment.state is AttachmentState.QUARANTINED
    assert "cannot be reached" in attachment.reason
    assert attachment.local_path is not None and attachment.local_path.parent == store.quarantine


async def test_a_blocked_extension_is_refused_before_any_byte_is_fetched(tmp_path: Path) -> None:
    fetched = False

    def never() -> AsyncIterator[bytes]:
        nonlocal fetched
        fetched = True
        return _source(b"x")()

    attachment = await take_in(
        Offer(name="invoice.pdf.exe", size=10, mime_type="application/pdf"),
        never,
        rules=SCAN,
        store=FileStore(tmp_path / "f"),
        scanner=None,
    )
    assert attachment.state is AttachmentState.BLOCKED and "blocked_extensions" in attachment.reason
    assert not fetched


async def test_a_program_disguised_as_a_picture_is_blocked_after_download(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    program = b"MZ\x90\x00" + b"\x00" * 100
    attachment = await take_in(
        Offer(name="cat.jpg", size=None, mime_type="image/jpeg"),
        _source(program),
        rules=SCAN,
        store=store,
        scanner=None,
    )
    assert attachment.state is AttachmentState.BLOCKED
    assert _quarantined(store) == []


async def test_more_bytes_than_announced_fail_the_transfer(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    attachment = await take_in(
        Offer(name="a.bin", size=10, mime_type=None), _source(b"x" * 100), rules=FileRules(), store=store, scanner=None
    )
    assert attachment.state is AttachmentState.FAILED and "larger" in attachment.reason
    assert _quarantined(store) == []


async def test_a_stalled_sender_times_out_and_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    stalled = asyncio.Event()

    async def stall() -> AsyncIterator[bytes]:
        yield b"first"
        await stalled.wait()
        yield b"never"

    attachment = await take_in(
        Offer(name="a.bin", size=None, mime_type=None),
        stall,
        rules=FileRules(),
        store=store,
        scanner=None,
        stall_seconds=0.2,
    )
    assert attachment.state is AttachmentState.FAILED and "stopped sending" in attachment.reason
    assert _quarantined(store) == []


async def test_a_full_disk_fails_with_that_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileStore(tmp_path / "files")
    real_fdopen = __import__("os").fdopen

    class FullFile:
        def __init__(self, fd: int, mode: str) -> None:
            self._file = real_fdopen(fd, mode)

        def __enter__(self) -> FullFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self._file.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("aggregator.files.store.os.fdopen", FullFile)
    attachment = await take_in(
        Offer(name="a.bin", size=None, mime_type=None), _source(b"x" * 10), rules=FileRules(), store=store, scanner=None
    )
    assert attachment.state is AttachmentState.FAILED and attachment.reason == "the disk is full"
    assert _quarantined(store) == []


async def test_a_50_mb_file_streams_through_the_scanner(clamd_server: ClamdServer, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    block = bytes(range(256)) * 4096  # 1 MiB

    async def fifty() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield block

    rules = FileRules(mode=FileMode.SCAN, scan_required=True)
    attachment = await take_in(
        Offer(name="big.bin", size=50 * len(block), mime_type=None),
        fifty,
        rules=rules,
        store=store,
        scanner=_clamd(clamd_server),
    )
    assert attachment.state is AttachmentState.CLEAN
    expected = hashlib.sha256()
    for _ in range(50):
        expected.update(block)
    assert attachment.sha256 == expected.hexdigest() and attachment.size == 50 * len(block)

