"""The room commands as JSON requests: one implementation for the control socket (a running
instance) and for the CLI working on the profile directly (then nothing is connected: a join is
remembered for the next run, a leave forgets).

Requests: ``{"op": "rooms"}`` (optional ``account``), ``rooms.join`` (``account``, ``room``, optional
``nick``), ``rooms.leave`` (``account``, ``room``), ``rooms.topic`` (``account``, ``room``, ``topic``).
"""

from __future__ import annotations

from typing import Any

from aggregator.rooms.records import Room
from aggregator.rooms.service import RoomService

OPS = frozenset({"rooms", "rooms.join", "rooms.leave", "rooms.topic"})


def room_json(room: Room) -> dict[str, Any]:
    return {
        "account": room.account_id,
        "room": room.key.handle,
        "address": room.address,
        "nick": room.nick,
        "joined": room.joined,
        "wanted": room.wanted,
        "autojoin": room.autojoin,
        "members": list(room.members),
        "topic": room.topic,
        "topic_set_by": room.topic_set_by,
        "error": room.error or None,
    }


async def run(rooms: RoomService, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "rooms":
        account = request.get("account")
        return {"ok": True, "rooms": [room_json(r) for r in rooms.rooms(str(account) if account else None)]}
    account_id = str(request["account"])
    if op == "rooms.join":
        nick = request.get("nick")
        room = await rooms.join(account_id, str(request["room"]), str(nick) if nick else None)
        return {"ok": True, "room": room_json(room)}
    room = rooms.find(account_id, str(request["room"]))
    if op == "rooms.leave":
        kept = await rooms.leave(room.key)
        return {"ok": True, "left": room_json(room), "room": room_json(kept) if kept is not None else None}
    if op == "rooms.topic":
        await rooms.set_topic(room.key, str(request["topic"]))
        return {"ok": True, "room": room_json(rooms.room(room.key) or room)}
    raise ValueError(f"unknown op {op!r}")
