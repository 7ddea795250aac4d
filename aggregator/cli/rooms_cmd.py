"""``aggregator rooms``: the group chats of every account; join, leave, set the topic.

With a running instance the request goes through its control socket (the room is joined or left
at once); without one, the profile's room list is changed directly and the room is joined when
the account next connects.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from aggregator.api import AccountId, AggregatorError, ConfigurationError
from aggregator.app.accounts import AccountCommands
from aggregator.app.offline import rooms as offline_rooms
from aggregator.app.runtime import InstanceLock, ProfilePaths, ProtocolRegistry
from aggregator.cli.errors import UsageError
from aggregator.cli.output import out, out_exact
from aggregator.control.client import request


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rooms = sub.add_parser("rooms", help="group chats: list, join, leave, set the topic")
    rooms.add_argument("--json", action="store_true", help="JSON output")
    rooms.set_defaults(func=cmd_rooms, request=lambda _a: {"op": "rooms"})
    verbs = rooms.add_subparsers(dest="verb", metavar="VERB")
    listing = verbs.add_parser("list", help="the rooms of every account (or of one), joined or not")
    listing.add_argument("account", metavar="ACCOUNT", nargs="?", help="only this account (id, address or label)")
    listing.add_argument("--json", action="store_true", help="JSON output")
    listing.set_defaults(request=lambda a: {"op": "rooms", "account": _account(a)})
    join = verbs.add_parser("join", help="join a room now and after every connect")
    join.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    join.add_argument("room", metavar="ROOM", help="e.g. team@conference.example.org, #team, #team:example.org")
    join.add_argument("--nick", help="the nick to use in the room (default: the account's user name)")
    join.set_defaults(request=lambda a: {"op": "rooms.join", "account": _account(a), "room": a.room, "nick": a.nick})
    leave = verbs.add_parser("leave", help="leave a room and stop joining it")
    leave.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    leave.add_argument("room", metavar="ROOM")
    leave.set_defaults(request=lambda a: {"op": "rooms.leave", "account": _account(a), "room": a.room})
    topic = verbs.add_parser("topic", help="set a room's topic (needs the running instance)")
    topic.add_argument("account", metavar="ACCOUNT", help="account id, address or label")
    topic.add_argument("room", metavar="ROOM")
    topic.add_argument("topic", metavar="TOPIC")
    topic.set_defaults(
        request=lambda a: {"op": "rooms.topic", "account": _account(a), "room": a.room, "topic": a.topic}
    )


def _account(args: argparse.Namespace) -> AccountId | None:
    if not getattr(args, "account", None):
        return None
    try:
        return AccountCommands.offline(args.paths).resolve(args.account).id
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None


def cmd_rooms(args: argparse.Namespace, paths: ProfilePaths, registry: ProtocolRegistry) -> int:
    args.paths = paths
    req = args.request(args)
    running = InstanceLock(paths.lock_file).is_held_elsewhere()
    reply = request(paths.control_socket, req) if running else offline_rooms.run(paths, registry, req)
    if not reply.get("ok"):
        error = str(reply.get("error", "the request was refused"))
        raise UsageError(error) if reply.get("usage") else AggregatorError(error)
    _show(args, reply, running)
    return 0


def _show(args: argparse.Namespace, reply: dict[str, Any], running: bool) -> None:
    if "rooms" in reply:
        if getattr(args, "json", False):
            out_exact(json.dumps(reply["rooms"], ensure_ascii=False, indent=2))
            return
        _show_list(reply["rooms"], running)
        return
    room = reply.get("room")
    if "left" in reply:
        left = reply["left"]
        out(f"Left {left['address']} on {left['account']}.")
        if left["autojoin"]:
            out("It is in the account's autojoin option; it stays left until you join it again.")
        return
    assert isinstance(room, dict)
    if args.verb == "topic":
        out(f"The topic of {room['address']} is now: {room['topic']}")
    elif room["joined"]:
        nick = f" as {room['nick']}" if room["nick"] else ""
        out(f"Joined {room['address']} on {room['account']}{nick}.")
    else:
        out(f"{room['address']} will be joined when {room['account']} connects.")


def _show_list(rooms: list[dict[str, Any]], running: bool) -> None:
    if not rooms:
        out("No rooms. Join one with: aggregator rooms join ACCOUNT ROOM")
        return
    account = None
    for room in rooms:
        if room["account"] != account:
            account = room["account"]
            out(f"== {account} ==")
        if room["joined"]:
            state = f"joined as {room['nick']}, {len(room['members'])} members"
        elif room["error"]:
            state = f"not joined: {room['error']}"
        else:
            state = "not joined" if running else "joined when the account connects"
        marks = "  [autojoin]" if room["autojoin"] else ""
        out(f"  {room['address']}  ({state}){marks}")
        if room["topic"]:
            by = f" (set by {room['topic_set_by']})" if room["topic_set_by"] else ""
            out(f"      topic: {room['topic']}{by}")
