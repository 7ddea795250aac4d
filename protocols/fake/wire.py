"""The fake protocol's wire format: one JSON object per line, UTF-8, with an ``op`` field.

Client to server: ``login``, ``send``, ``presence``, ``typing``, ``ping``, and for group chats ``join``
(``room``, ``nick``), ``leave`` (``room``), ``topic`` (``room``, ``topic``); a ``send`` to a room address
goes to the room.
Server to client: ``login_ok``, ``login_error``, ``roster``, ``roster_item``, ``roster_remove``,
``presence``, ``message`` (with ``room`` and ``nick`` for a room message), ``typing``, ``room_joined``,
``room_left``, ``room_members``, ``room_topic``, ``ack``, ``error``, ``pong``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

#: The longest line either side accepts (bytes).
LINE_LIMIT = 1 << 20
#: The longest message body the server accepts (characters).
MAX_BODY_LENGTH = 10_000

Frame = dict[str, Any]


class WireError(ValueError):
    """A line that is not a valid frame."""


def encode(frame: Frame) -> bytes:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> Frame:
    """Parses one line into a frame, or raises ``WireError`` saying what is wrong with it."""
    try:
        value = json.loads(line.decode())
    except UnicodeDecodeError:
        raise WireError("line is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise WireError(f"line is not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise WireError("line is not a JSON object")
    if not isinstance(value.get("op"), str):
        raise WireError("line has no 'op'")
    return value


def text(frame: Frame, key: str, *, default: str | None = None) -> str:
    """``frame[key]`` as a string, or raises ``WireError``."""
    value = frame.get(key, default)
    if not isinstance(value, str):
        raise WireError(f"{frame.get('op')!s}: {key!r} is missing or not a string")
    return value


def optional_text(frame: Frame, key: str) -> str | None:
    value = frame.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WireError(f"{frame.get('op')!s}: {key!r} is not a string")
    return value


def flag(frame: Frame, key: str) -> bool:
    value = frame.get(key, False)
    if not isinstance(value, bool):
        raise WireError(f"{frame.get('op')!s}: {key!r} is not a boolean")
    return value


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("server timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def parse_timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise WireError(f"{value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise WireError(f"timestamp {value!r} has no time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise WireError(f"timestamp {value!r} is out of range") from None


def now() -> datetime:
    return datetime.now(UTC)
