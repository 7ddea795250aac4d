"""``IrcMessage`` parsing and serialising: table-driven cases and a round-trip property."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.irc.message import IrcMessage, IrcParseError, escape_tag_value, parse, parse_bytes, unescape_tag_value

CASES = [
    ("PING :abc", IrcMessage("PING", ("abc",))),
    (":irc.localhost 001 alice :Welcome here", IrcMessage("001", ("alice", "Welcome here"), "irc.localhost")),
    (
        "@time=2024-01-02T03:04:05.678Z;msgid=0AA~1 :bob!b@h PRIVMSG #chan :hi there",
        IrcMessage("PRIVMSG", ("#chan", "hi there"), "bob!b@h", {"time": "2024-01-02T03:04:05.678Z", "msgid": "0AA~1"}),
    ),
    ("@a=x\\sy\\:z\\\\w;b;c= CMD", IrcMessage("CMD", (), None, {"a": "x y;z\\w", "b": "", "c": ""})),
    (":s CAP * LS * :sasl server-time", IrcMessage("CAP", ("*", "LS", "*", "sasl server-time"), "s")),
    ("privmsg #c ::colon", IrcMessage("PRIVMSG", ("#c", ":colon"))),
    ("CMD  a   b  :", IrcMessage("CMD", ("a", "b", ""))),
    ("@k=v\\ CMD", IrcMessage("CMD", (), None, {"k": "v"})),  # a lone trailing backslash is dropped
    ("@k=\\x CMD\r\n", IrcMessage("CMD", (), None, {"k": "x"})),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_parse(line: str, expected: IrcMessage) -> None:
    assert parse(line) == expected


@pytest.mark.parametrize("line", ["", "   ", ":source-only", "@tags=only", "@a :src"])
def test_lines_without_a_command_are_parse_errors(line: str) -> None:
    with pytest.raises(IrcParseError):
        parse(line)


def test_serialise() -> None:
    message = IrcMessage("privmsg", ("#chan", "hello world"), tags={"label": "a b;c"})
    assert message.to_line() == "@label=a\\sb\\:c PRIVMSG #chan :hello world"
    assert message.to_bytes().endswith(b"\r\n")
    assert IrcMessage("JOIN", ("#c",)).to_line() == "JOIN #c"
    assert IrcMessage("PRIVMSG", ("#c", "")).to_line() == "PRIVMSG #c :"
    assert IrcMessage("PRIVMSG", ("#c", ":x")).to_line() == "PRIVMSG #c ::x"


@pytest.mark.parametrize(
    "message",
    [
        IrcMessage("PRIVMSG", ("#c", "line\r\nQUIT")),
        IrcMessage("PRIVMSG", ("a b", "x")),
        IrcMessage("PRIVMSG", ("", "x")),
        IrcMessage("BAD CMD"),
        IrcMessage("CMD", tags={"k;": "v"}),
    ],
)
def test_unsendable_messages_raise(message: IrcMessage) -> None:
    with pytest.raises(ValueError):
        message.to_line()


def test_invalid_utf8_parses_with_the_fallback() -> None:
    assert parse_bytes(b":b!u@h PRIVMSG #c :caf\xe9\x00\r\n").params[1] == "café"


_middle = st.text(st.characters(exclude_characters="\r\n\0 ", exclude_categories=["Cs"]), min_size=1).filter(
    lambda p: not p.startswith(":")
)
_last = st.text(st.characters(exclude_characters="\r\n\0", exclude_categories=["Cs"]))
_key = st.from_regex(r"\+?[A-Za-z0-9./-]{1,20}", fullmatch=True)
_value = st.text(st.characters(exclude_characters="\0", exclude_categories=["Cs"]))
messages = st.builds(
    IrcMessage,
    command=st.one_of(st.from_regex(r"[A-Z]{1,10}", fullmatch=True), st.from_regex(r"[0-9]{3}", fullmatch=True)),
    params=st.tuples(st.lists(_middle, max_size=5), st.lists(_last, max_size=1)).map(lambda t: tuple(t[0] + t[1])),
    source=st.one_of(st.none(), _middle),
    tags=st.dictionaries(_key, _value, max_size=4),
)


@given(messages)
def test_parse_inverts_serialise(message: IrcMessage) -> None:
    assert parse(message.to_line()) == message
    assert parse_bytes(message.to_bytes()) == message


@given(_value)
def test_tag_escaping_round_trips(value: str) -> None:
    escaped = escape_tag_value(value)
    assert not any(c in escaped for c in " ;\r\n")
    assert unescape_tag_value(escaped) == value


@given(st.binary(max_size=600))
def test_parsing_arbitrary_bytes_never_fails_otherwise(data: bytes) -> None:
    with contextlib.suppress(IrcParseError):
        parse_bytes(data)
