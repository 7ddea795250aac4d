"""How long the user has been idle: from the desktop over D-Bus, or from the app's own input."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class IdleSource(Protocol):
    async def idle_seconds(self) -> float | None:
        """Seconds since the user's last input, or None when this source cannot tell."""
        ...


class AppInputIdle:
    """Idle time from the app's own input: the UI calls ``activity()`` on key presses and clicks."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last = clock()

    def activity(self) -> None:
        self._last = self._clock()

    async def idle_seconds(self) -> float | None:
        return self._clock() - self._last


_CALLS = (
    # (bus name, object path, interface, method, milliseconds?)
    (
        "org.gnome.Mutter.IdleMonitor",
        "/org/gnome/Mutter/IdleMonitor/Core",
        "org.gnome.Mutter.IdleMonitor",
        "GetIdletime",
    ),
    (
        "org.freedesktop.ScreenSaver",
        "/org/freedesktop/ScreenSaver",
        "org.freedesktop.ScreenSaver",
        "GetSessionIdleTime",
    ),
)


class DBusIdle:
    """The desktop's idle time on the session bus (Mutter's IdleMonitor, else freedesktop ScreenSaver;
    both answer in milliseconds). Falls back to None when neither answers."""

    def __init__(self) -> None:
        self._dead = False

    async def idle_seconds(self) -> float | None:
        if self._dead:
            return None
        from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
        from jeepney.io.asyncio import open_dbus_router  # type: ignore[import-untyped]

        try:
            async with asyncio.timeout(2), open_dbus_router(bus="SESSION") as router:
                for name, path, interface, method in _CALLS:
                    call = new_method_call(DBusAddress(path, bus_name=name, interface=interface), method)
                    reply = await router.send_and_get_reply(call)
                    if reply.header.message_type.name == "method_return" and reply.body:
                        return float(reply.body[0]) / 1000.0
        except (OSError, KeyError, ValueError, TimeoutError) as exc:
            log.info("No desktop idle time over D-Bus (%s); using the app's own input", exc)
        self._dead = True
        return None


class FirstAnswer:
    """The first source that can tell (e.g. the desktop, then the app's own input)."""

    def __init__(self, *sources: IdleSource) -> None:
        self._sources = sources

    async def idle_seconds(self) -> float | None:
        for source in self._sources:
            value = await source.idle_seconds()
            if value is not None:
                return value
        return None
