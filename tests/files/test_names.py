"""Hostile file names from a peer become one safe, visible name (issue 16, item 8)."""

from __future__ import annotations

import pytest

from aggregator.files.names import FALLBACK_NAME, MAX_NAME_BYTES, extensions, safe_file_name


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("holiday.jpg", "holiday.jpg"),
        ("../../.bashrc", "bashrc"),
        ("/etc/passwd", "passwd"),
        ("C:\\Windows\\System32\\evil.dll", "evil.dll"),
        ("..\\..\\x.txt", "x.txt"),
        ("report\x00.pdf", "report.pdf"),
        ("a\nb\r\tc.txt", "abc.txt"),
        # U+202E (right-to-left override) would show "invoice_gpj.exe" as "invoice_exe.jpg".
        ("invoice_\u202egpj.exe", "invoice_gpj.exe"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("CON", "_CON"),
        ("com1.txt", "_com1.txt"),
        ("LPT9.log", "_LPT9.log"),
        ("console.txt", "console.txt"),
        ("trailing. . ", "trailing"),
        ('what?"<>|*.txt', "what______.txt"),
        ("   ", FALLBACK_NAME),
        ("..", FALLBACK_NAME),
        ("", FALLBACK_NAME),
        ("dir/", FALLBACK_NAME),
    ],
)
def test_a_hostile_name_becomes_safe(raw: str, safe: str) -> None:
    assert safe_file_name(raw) == safe


def test_a_long_name_keeps_its_extension_within_the_limit() -> None:
    name = safe_file_name("ä" * 300 + ".png")
    assert name.endswith(".png")
    assert len(name.encode()) <= MAX_NAME_BYTES
    name.encode().decode()  # never cut inside a character


def test_every_extension_is_seen_outermost_last() -> None:
    assert extensions("Invoice.PDF.exe") == ("pdf", "exe")
    assert extensions("README") == ()
    assert extensions("../x.tar.gz") == ("tar", "gz")
