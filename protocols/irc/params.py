"""What may go into the parameters of the lines we send: the protocol-level escaping of the IRC client.

IRC has no escaping inside a line: a CR, LF or NUL ends or breaks it, and in a middle parameter a space
or a leading ``:`` changes where the parameters are cut. So nothing that comes from a person (a target, a
body, a topic, a part or away reason, a nick, a real name) reaches the wire unchecked:

- a target (nick or channel, ``check_target``) is refused with ``InvalidTarget`` when it is empty or holds
  a space, a comma (``bob,carol`` would reach two people), a control character (CR, LF, NUL, BEL...) or
  starts with ``:``. It is never "repaired": a wrong recipient must not get the message;
- a nick (``check_nick``) likewise, plus no ``!``, ``@`` or leading ``#``/``&``;
- free text in a trailing parameter (``clean_text``: a topic, a reason, an away message, a real name) has
  its line breaks turned into spaces and its NULs removed;
- a message body is split at its line breaks into one PRIVMSG per non-empty line (``split.split_message``),
  and each line loses its NULs and CTCP delimiters (``clean_body_line``: a pasted ``\\x01DCC SEND...\\x01``
  would otherwise be a CTCP request). IRC formatting codes (bold, colours...) stay.

``IrcMessage.to_line`` still refuses any CR, LF or NUL in a parameter: the last guard, never the first.
"""

from __future__ import annotations

import re

#: Characters that no target or nick may contain: blanks that end a middle parameter, the list separator,
#: and every C0 control character and DEL (CR, LF and NUL break the line; BEL is refused in channel names).
_BAD_IN_TARGET = re.compile(r"[\s,\x00-\x1f\x7f]")
_BAD_IN_NICK = re.compile(r"[\s,!@\x00-\x1f\x7f]")


class InvalidTarget(ValueError):
    """A target or nick that cannot be put in an IRC line; the message names the problem."""


def _describe(char: str) -> str:
    names = {" ": "a space", ",": "a comma", "\r": "a carriage return (CR)", "\n": "a line feed (LF)",
             "\0": "a NUL character", "!": "'!'", "@": "'@'"}  # fmt: skip
    return names.get(char, f"the control character U+{ord(char):04X}" if not char.isprintable() else repr(char))


def check_target(target: str) -> str:
    """``target`` unchanged if it can be the target of a PRIVMSG, JOIN, PART...; else ``InvalidTarget``."""
    if not target:
        raise InvalidTarget("an IRC target (nick or channel) cannot be empty")
    if target.startswith(":"):
        raise InvalidTarget(f"the IRC target {target!r} starts with ':'")
    bad = _BAD_IN_TARGET.search(target)
    if bad is not None:
        raise InvalidTarget(f"the IRC target {target!r} contains {_describe(bad.group())}")
    return target


def check_nick(nick: str) -> str:
    """``nick`` unchanged if it can be sent in NICK; else ``InvalidTarget``."""
    check_target(nick)
    bad = _BAD_IN_NICK.search(nick)
    if bad is not None:
        raise InvalidTarget(f"the nick {nick!r} contains {_describe(bad.group())}")
    if nick[0] in "#&":
        raise InvalidTarget(f"the nick {nick!r} starts like a channel name")
    return nick


def clean_text(text: str) -> str:
    """Free text for a trailing parameter: CR/LF (and CR LF) become one space each, NULs are removed."""
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\0", "")


def clean_body_line(line: str) -> str:
    """One line of a message body: no NUL, no CTCP delimiter (\\x01), no CR or LF."""
    return line.replace("\0", "").replace("\x01", "").replace("\r", "").replace("\n", "")
