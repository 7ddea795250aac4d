"""What the text in a conversation's input means: a message, a ``/me`` action, ``/t NAME`` (a template),
``/help`` (the list of commands, shown locally), or a command this client does not know.

A command is a slash and a word at the very start, followed by a space or the end: ``/mexican food`` is
the unknown command ``/mexican`` and is not sent; ``/usr/bin is full`` and ``/ hello`` are text.
``//text`` sends ``/text`` for the rare message that must start with a command word. Nothing that
looks like a command ever reaches the peer by mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aggregator.api import MessageKind

#: The commands, for ``/help`` and the note on an unknown command (one line each).
COMMANDS = (
    ("/me TEXT", "sends TEXT as an action (* you TEXT)"),
    ("/t NAME", "puts the template NAME in the input"),
    ("//TEXT", "sends /TEXT as it is"),
    ("/help", "shows this list"),
)

_COMMAND = re.compile(r"/([^\s/]+)(?:\s|$)")


@dataclass(frozen=True, slots=True)
class SendText:
    body: str
    kind: MessageKind = MessageKind.CHAT


@dataclass(frozen=True, slots=True)
class InsertTemplate:
    name: str


@dataclass(frozen=True, slots=True)
class BadCommand:
    error: str


@dataclass(frozen=True, slots=True)
class ShowHelp:
    """``/help`` (``unknown`` empty) or an unknown ``/command`` (named): nothing is sent."""

    unknown: str = ""


Command = SendText | InsertTemplate | BadCommand | ShowHelp


def help_text() -> str:
    """The commands, one a line."""
    return "Commands:\n" + "\n".join(f"{usage} \u2014 {what}" for usage, what in COMMANDS)


def _word(text: str, command: str) -> str | None:
    """The rest after ``command`` when ``text`` starts with it as a whole word; else None."""
    if text == command:
        return ""
    if text.startswith(command) and text[len(command)].isspace():
        return text[len(command) + 1 :]
    return None


def parse(text: str) -> Command:
    if text.startswith("//"):
        return SendText(text[1:])
    action = _word(text, "/me")
    if action is not None:
        if not action.strip():
            return BadCommand("/me needs some text, e.g. /me waves")
        return SendText(action, MessageKind.ACTION)
    name = _word(text, "/t")
    if name is not None:
        if not name.strip():
            return BadCommand("/t needs a template name, e.g. /t thanks")
        return InsertTemplate(name.strip())
    command = _COMMAND.match(text)
    if command is not None:
        word = command.group(1)
        return ShowHelp() if word.casefold() == "help" else ShowHelp(f"/{word}")
    return SendText(text)
