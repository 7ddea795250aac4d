"""Wire format of the control socket: one JSON object per line, one request per connection."""

from __future__ import annotations

import json
from typing import Any

MAX_REQUEST = 1 << 20


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    if not isinstance(value, dict):
        raise ValueError("a request must be a JSON object")
    return value
