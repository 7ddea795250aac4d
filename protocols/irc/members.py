"""Who is in each joined channel, kept between NAMES replies from JOIN, PART, KICK, QUIT and NICK, so
that the core's member list follows the channel (``RoomMembers`` after every change).

Channels and nicks are handles (casefolded by the server's case mapping); each method returns the
channels whose member list changed.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class ChannelMembers:
    def __init__(self) -> None:
        self._channels: dict[str, tuple[str, ...]] = {}

    def clear(self) -> None:
        self._channels.clear()

    def members(self, channel: str) -> tuple[str, ...]:
        return self._channels.get(channel, ())

    def names(self, channel: str, members: tuple[str, ...]) -> list[str]:
        self._channels[channel] = tuple(sorted(set(members)))
        return [channel]

    def joined(self, channel: str, nick: str) -> list[str]:
        now = self._channels.get(channel)
        if now is None or nick in now:
            return []  # not ours (yet: NAMES follows our own JOIN), or known already
        self._channels[channel] = tuple(sorted({*now, nick}))
        return [channel]

    def left(self, channel: str, nick: str) -> list[str]:
        now = self._channels.get(channel)
        if now is None or nick not in now:
            return []
        self._channels[channel] = tuple(m for m in now if m != nick)
        return [channel]

    def we_left(self, channel: str) -> None:
        self._channels.pop(channel, None)

    def quit(self, nick: str) -> list[str]:
        return [channel for channel in list(self._channels) if self.left(channel, nick)]

    def renamed(self, old: str, new: str) -> list[str]:
        changed = []
        for channel, now in list(self._channels.items()):
            if old in now:
                self._channels[channel] = tuple(sorted({*(m for m in now if m != old), new}))
                changed.append(channel)
        return changed
