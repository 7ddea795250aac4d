"""A declared MIME type that lies is checked against the content (issue 16, item 8)."""

from __future__ import annotations

from aggregator.files.sniff import check_type, sniff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"


def test_signatures_are_recognised() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"\x00\x00\x00\x18ftypmp42") == "video/mp4"
    assert sniff(b"hello") is None


def test_a_program_declared_as_a_picture_is_a_program() -> None:
    check = check_type("image/png", WINDOWS_PROGRAM)
    assert check.mismatch and check.is_executable
    assert check.mime_type == "application/x-msdownload" and check.declared == "image/png"


def test_unknown_content_declared_as_a_picture_is_not_shown_as_one() -> None:
    check = check_type("image/jpeg", b"<html><script>")
    assert check.mismatch and check.mime_type == "application/octet-stream"


def test_honest_and_container_types_pass() -> None:
    assert not check_type("image/png; name=x", PNG).mismatch
    assert check_type(None, PNG).mime_type == "image/png"
    docx = check_type("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04")
    assert not docx.mismatch and docx.mime_type.startswith("application/vnd.")
    assert check_type("text/plain", b"hello").mime_type == "text/plain"
