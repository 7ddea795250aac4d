"""The account option ``autojoin``: a comma-separated list of rooms, each ``ADDRESS`` or ``ADDRESS/NICK``.

The ``/NICK`` suffix is recognised only after an ``@`` (``room@conference.example.org/Alice``): an IRC
channel (``#a/b``) or a Matrix alias (``#team:example.org``) is taken whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from aggregator.rooms.records import WantedRoom

OPTION = "autojoin"


def parse_entry(entry: str) -> WantedRoom:
    text = entry.strip()
    at = text.find("@")
    slash = text.find("/", at) if at >= 0 else -1
    if slash > at >= 0:
        nick = text[slash + 1 :].strip()
        return WantedRoom(text[:slash].strip(), nick or None)
    return WantedRoom(text)


def autojoin_rooms(options: Mapping[str, str]) -> list[WantedRoom]:
    value = options.get(OPTION, "")
    entries = (parse_entry(part) for part in value.replace("\n", ",").split(","))
    return [e for e in entries if e.address]
