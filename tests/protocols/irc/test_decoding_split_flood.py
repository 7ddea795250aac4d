"""Decoding, splitting and the flood queue: table-driven cases and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.irc.decoding import check_encoding, decode
from protocols.irc.flood import SendQueue
from protocols.irc.split import LINE_LIMIT, body_budget, split_message, split_text


@pytest.mark.parametrize(
    ("data", "fallback", "expected"),
    [
        ("Grüße 👋".encode(), "latin-1", "Grüße 👋"),
        (b"caf\xe9", "latin-1", "café"),
        (b"\x80 euro", "cp1252", "€ euro"),
        (b"a\x00b\x00", "latin-1", "ab"),
        (b"\xff", "ascii", "\ufffd"),
        (b"\xe9", "no-such-codec", "é"),
    ],
)
def test_decode(data: bytes, fallback: str, expected: str) -> None:
    assert decode(data, fallback) == expected


def test_check_encoding() -> None:
    assert check_encoding("Latin1") == "iso8859-1"
    for bad in ("no-such-codec", "base64"):
        with pytest.raises(LookupError):
            check_encoding(bad)


@given(st.binary(), st.sampled_from(["latin-1", "cp1252", "utf-8", "ascii", "koi8-r", "shift_jis"]))
def test_decode_never_raises_and_drops_nul(data: bytes, fallback: str) -> None:
    text = decode(data, fallback)
    assert "\0" not in text


def test_split_prefers_word_boundaries() -> None:
    assert split_text("aaa bbb ccc", 8) == ["aaa bbb ", "ccc"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert split_text("", 10) == [""]
    assert split_text("ü" * 5, 5) == ["üü", "üü", "ü"]  # never mid-character


def test_split_message_drops_empty_lines() -> None:
    assert split_message("one\r\n\ntwo\rthree", 100) == ["one", "two", "three"]
    assert split_message("\n\n", 100) == []


def test_a_full_line_fits_512_bytes() -> None:
    nick, target = "n" * 30, "#" + "c" * 63
    budget = body_budget(nick, "PRIVMSG", target, action=True)
    for piece in split_text("wörd " * 400, budget):
        line = f":{nick}!{'u' * 10}@{'h' * 64} PRIVMSG {target} :\x01ACTION {piece}\x01\r\n"
        assert len(line.encode()) <= LINE_LIMIT


@given(st.text(st.characters(exclude_categories=["Cs"])), st.integers(4, 600))
def test_split_pieces_fit_and_rejoin(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(len(piece.encode()) <= limit for piece in pieces)
    assert all(pieces) or pieces == [""]


def test_flood_queue_bursts_then_paces_and_never_drops() -> None:
    queue: SendQueue[int] = SendQueue(rate=2.0, burst=3, now=0.0)
    for item in range(10):
        queue.push(item)
    assert queue.pop_ready(0.0) == [0, 1, 2]
    assert queue.pop_ready(0.1) == []
    assert queue.delay(0.1) == pytest.approx(0.4)
    assert queue.pop_ready(0.5) == [3]
    assert queue.pop_ready(100.0) == [4, 5, 6]  # the bucket holds at most ``burst``
    assert queue.pop_ready(101.0) == [7, 8]
    assert queue.pop_ready(1000.0) == [9]
    assert queue.delay(1000.0) is None
    assert len(queue) == 0


@given(st.lists(st.floats(0, 5), max_size=50), st.integers(1, 30))
def test_flood_queue_keeps_order_and_everything(steps: list[float], count: int) -> None:
    queue: SendQueue[int] = SendQueue(rate=3.0, burst=4)
    for item in range(count):
        queue.push(item)
    now, out = 0.0, []
    for step in steps:
        now += step
        out += queue.pop_ready(now)
    out += queue.pop_ready(now + count)  # enough time for the rest
    out += queue.pop_ready(now + 2 * count)
    assert out == list(range(count))[: len(out)]
    assert len(out) + len(queue) == count
