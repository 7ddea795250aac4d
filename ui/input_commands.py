"""What the text in a conversation's input means: a message, a ``/me`` action, or ``/t NAME`` (a template).

Anything else is sent as typed, including text that merely starts with a slash; ``//text`` sends
``/text`` for the rare message that must start with a command word.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.api import MessageKind


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


Command = SendText | InsertTemplate | BadCommand


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
    return SendText(text)
