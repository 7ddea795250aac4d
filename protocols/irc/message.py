"""``IrcMessage``: one IRC line (IRCv3 message tags, source, command, parameters), parsed and serialised.

Pure: no I/O. ``parse`` takes one line already decoded to ``str`` (see ``decoding``) without CR LF;
``IrcMessage.to_line`` gives it back. For every valid message ``parse(m.to_line()) == m``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from protocols.irc.decoding import decode


class IrcParseError(ValueError):
    """A line that is not an IRC message (e.g. empty, or tags without a command)."""


_ESCAPES = {"\\": "\\\\", ";": "\\:", " ": "\\s", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_FORBIDDEN = frozenset("\r\n\0")


def escape_tag_value(value: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in value)


def unescape_tag_value(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "")  # a lone trailing backslash is dropped
        out.append(_UNESCAPES.get(following, following))
    return "".join(out)


def _frozen(tags: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(tags))


@dataclass(frozen=True, slots=True)
class IrcMessage:
    """One IRC message. ``tags`` maps a tag key to its unescaped value ("" for a tag without a value)."""

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "command", self.command.upper())
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "tags", _frozen(self.tags))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IrcMessage):
            return NotImplemented
        return (self.command, self.params, self.source, dict(self.tags)) == (
            other.command,
            other.params,
            other.source,
            dict(other.tags),
        )

    def __hash__(self) -> int:
        return hash((self.command, self.params, self.source, tuple(sorted(self.tags.items()))))

    @property
    def nick(self) -> str | None:
        """The nick (or server name) part of the source."""
        if self.source is None:
            return None
        return self.source.split("!", 1)[0].split("@", 1)[0]

    @property
    def source_or_empty(self) -> str:
        return self.source or ""

    def param(self, index: int, default: str = "") -> str:
        return self.params[index] if -len(self.params) <= index < len(self.params) else default

    def with_tags(self, **tags: str) -> IrcMessage:
        return IrcMessage(self.command, self.params, self.source, {**self.tags, **tags})

    def to_line(self) -> str:
        """The wire form without CR LF. Raises ``ValueError`` for a message no line can carry."""
        if not self.command or not self.command.isalnum() or not self.command.isascii():
            raise ValueError(f"invalid IRC command {self.command!r}")
        parts: list[str] = []
        if self.tags:
            items = []
            for key, value in self.tags.items():
                if not key or any(c in key for c in " ;=\r\n\0"):
                    raise ValueError(f"invalid tag key {key!r}")
                if "\0" in value:
                    raise ValueError(f"tag {key!r} contains NUL")
                items.append(f"{key}={escape_tag_value(value)}" if value else key)
            parts.append("@" + ";".join(items))
        if self.source is not None:
            if not self.source or any(c in self.source for c in " \r\n\0"):
                raise ValueError(f"invalid source {self.source!r}")
            parts.append(":" + self.source)
        parts.append(self.command)
        for index, param in enumerate(self.params):
            if _FORBIDDEN.intersection(param):
                raise ValueError("a parameter contains CR, LF or NUL")
            last = index == len(self.params) - 1
            if not param or " " in param or param.startswith(":"):
                if not last:
                    raise ValueError(f"middle parameter {param!r} is empty, has a space or starts with ':'")
                param = ":" + param
            parts.append(param)
        return " ".join(parts)

    def to_bytes(self) -> bytes:
        return self.to_line().encode("utf-8") + b"\r\n"


def parse(line: str) -> IrcMessage:
    """Parses one line (without CR LF; trailing CR LF is tolerated). Raises ``IrcParseError``."""
    rest = line.rstrip("\r\n")
    tags: dict[str, str] = {}
    source: str | None = None
    if rest.startswith("@"):
        tag_text, _, rest = rest[1:].partition(" ")
        for item in tag_text.split(";"):
            if not item:
                continue
            key, _, value = item.partition("=")
            if key:
                tags[key] = unescape_tag_value(value)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        if not source:
            source = None
    trailing: str | None = None
    head, sep, tail = rest.partition(" :")
    if rest.startswith(":"):
        head, trailing = "", rest[1:]
    elif sep:
        trailing = tail
    words = [word for word in head.split(" ") if word]  # only spaces separate (not \x1f, \v...)
    if not words:
        raise IrcParseError(f"no command in {line[:80]!r}")
    command, params = words[0], words[1:]
    if trailing is not None:
        params.append(trailing)
    return IrcMessage(command, tuple(params), source, tags)


def parse_bytes(data: bytes, fallback: str = "latin-1") -> IrcMessage:
    """Decodes (never fails, see ``decoding``) and parses one raw line."""
    return parse(decode(data, fallback))
