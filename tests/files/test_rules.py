"""The policy's file rules decide per file, and say which rule refused it (issue 16, item 5)."""

from __future__ import annotations

from aggregator.files.rules import FileMode, FileRules, check_file

BLOCKING = FileRules(mode=FileMode.SCAN, max_file_mb=10, blocked_extensions=frozenset({"exe", "scr", "js", "bat"}))


def test_an_ordinary_file_passes() -> None:
    assert check_file(BLOCKING, "holiday.jpg", 2_000_000) is None


def test_deny_refuses_every_file_naming_the_rule() -> None:
    refusal = check_file(FileRules(mode=FileMode.DENY), "holiday.jpg", 10)
    assert refusal is not None and refusal.rule == "file_transfer"


def test_a_file_over_the_size_limit_is_refused() -> None:
    refusal = check_file(BLOCKING, "video.mp4", 10 * 1024 * 1024 + 1)
    assert refusal is not None and refusal.rule == "max_file_mb"
    assert "10 MB" in str(refusal)
    assert check_file(BLOCKING, "video.mp4", 10 * 1024 * 1024) is None


def test_blocked_extensions_are_caught_in_any_case_and_behind_another_extension() -> None:
    for name in ("setup.exe", "SETUP.EXE", "invoice.pdf.exe", "photo.exe.jpg", "run.bat.", "x.js "):
        refusal = check_file(BLOCKING, name, 100)
        assert refusal is not None and refusal.rule == "blocked_extensions", name


def test_a_program_renamed_to_a_picture_is_caught_by_its_content() -> None:
    assert check_file(BLOCKING, "cat.jpg", 100, "application/x-msdownload") is not None
    assert check_file(BLOCKING, "cat.jpg", 100, "image/jpeg") is None


def test_scan_required_scans_even_when_files_are_allowed() -> None:
    assert FileRules(mode=FileMode.ALLOW, scan_required=True).scans
    assert not FileRules(mode=FileMode.ALLOW).scans
