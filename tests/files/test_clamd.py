"""Scanning through a real, offline clamd (issue 16, item 5): clean, infected, unreachable (fail closed)."""

from __future__ import annotations

import socket
from pathlib import Path

from aggregator.files.clamd import ScanOutcome, parse_reply, scan_file
from tests.servers.clamd import EICAR, SIGNATURE_NAME, ClamdServer


async def test_a_clean_file_is_clean(clamd_server: ClamdServer, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"nothing to see here\n" * 1000)
    result = await scan_file(clamd_server.socket, path)
    assert result.outcome is ScanOutcome.CLEAN


async def test_the_eicar_file_is_infected_with_the_signature_named(clamd_server: ClamdServer, tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(EICAR)
    result = await scan_file(clamd_server.socket, path)
    assert result.outcome is ScanOutcome.INFECTED
    assert SIGNATURE_NAME in result.detail


async def test_a_large_file_streams_in_chunks(clamd_server: ClamdServer, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        for _ in range(20):
            out.write(b"\x01" * (1024 * 1024))
    result = await scan_file(clamd_server.socket, path)
    assert result.outcome is ScanOutcome.CLEAN


async def test_no_daemon_means_unavailable_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"x")
    result = await scan_file(tmp_path / "missing.sock", path)
    assert result.outcome is ScanOutcome.UNAVAILABLE
    assert "cannot be reached" in result.detail


async def test_a_silent_daemon_times_out_as_unavailable(tmp_path: Path) -> None:
    sock_path = tmp_path / "silent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(1)
    path = tmp_path / "x.txt"
    path.write_bytes(b"x")
    try:
        result = await scan_file(sock_path, path, timeout=0.5)
    finally:
        listener.close()
    assert result.outcome is ScanOutcome.UNAVAILABLE
    assert "did not answer" in result.detail


def test_replies_are_read_as_clamd_writes_them() -> None:
    assert parse_reply(b"stream: OK\0").outcome is ScanOutcome.CLEAN
    infected = parse_reply(b"stream: Win.Test.EICAR_HDB-1 FOUND\0")
    assert infected.outcome is ScanOutcome.INFECTED and infected.detail == "Win.Test.EICAR_HDB-1"
    error = parse_reply(b"INSTREAM size limit exceeded. ERROR\0")
    assert error.outcome is ScanOutcome.UNAVAILABLE and "size limit" in error.detail
