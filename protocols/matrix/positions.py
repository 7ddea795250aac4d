"""Catch-up positions of the Matrix adapter (``SupportsResume``): the sync token and, per room, the
newest timeline event seen (the point a ``limited`` timeline's gap is backfilled down to).

Streams: ``sync`` holds ``{"user_id", "device_id", "next_batch"}`` as JSON (a token of another user or
device is not used: to-device messages are per device); ``room:<room id>`` holds an event id. The
adapter reports them with ``PositionReached`` after every event of the sync that produced them, so the
core stores a token only once the events it covers are handled; it keeps no token file of its own.

``sync-state.json`` in the account's data dir is what earlier versions wrote as soon as a sync
returned (before its events were stored): it is read as a fallback while the core holds no sync
position, and removed once it does.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

SYNC_STREAM = "sync"
ROOM_PREFIX = "room:"
LEGACY_FILE = "sync-state.json"


def room_stream(room_id: str) -> str:
    return ROOM_PREFIX + room_id


def encode_sync(user_id: str, device_id: str | None, token: str) -> str:
    return json.dumps({"user_id": user_id, "device_id": device_id, "next_batch": token})


def sync_token(positions: Mapping[str, str], user_id: str, device_id: str | None) -> str | None:
    """The stored sync token, if it belongs to this user and device."""
    try:
        state = json.loads(positions.get(SYNC_STREAM, ""))
    except ValueError:
        return None
    if not isinstance(state, dict) or state.get("user_id") != user_id or state.get("device_id") != device_id:
        return None
    token = state.get("next_batch")
    return token if isinstance(token, str) and token else None


def last_seen(positions: Mapping[str, str]) -> dict[str, str]:
    """Room id -> the newest timeline event seen in it."""
    return {
        stream[len(ROOM_PREFIX) :]: value
        for stream, value in positions.items()
        if stream.startswith(ROOM_PREFIX) and value
    }


def read_legacy(data_dir: Path | None) -> dict[str, str]:
    """The positions an earlier version kept in ``data_dir`` (empty when none or unreadable)."""
    if data_dir is None:
        return {}
    path = data_dir / LEGACY_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or not isinstance(state.get("next_batch"), str):
        return {}
    found = {
        SYNC_STREAM: encode_sync(str(state.get("user_id")), state.get("device_id"), state["next_batch"]),
    }
    seen = state.get("last_seen")
    if isinstance(seen, dict):
        found.update({room_stream(k): v for k, v in seen.items() if isinstance(k, str) and isinstance(v, str)})
    return found


def remove_legacy(data_dir: Path | None) -> None:
    if data_dir is not None:
        with contextlib.suppress(OSError):
            (data_dir / LEGACY_FILE).unlink(missing_ok=True)
