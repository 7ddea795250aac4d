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


_TIMEOUT = 1.0

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
        # jeepney's blocking API in a worker thread: a cancelled caller (the app stopping) then never
        # leaves jeepney's asyncio router half-closed, which hung the shutdown.
        value = await asyncio.to_thread(self._query)
        if value is None:
            self._dead = True
        return value

    @staticmethod
    def _query() -> float | None:
        from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
        from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        try:
            with open_dbus_connection(bus="SESSION", enable_fds=False) as conn:
                for name, path, interface, method in _CALLS:
                    # Ask whether the service runs: calling it directly would make the bus try to
                    # start it, which can hang where there is no desktop session.
                    owned = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=_TIMEOUT)
                    if not (owned.body and owned.body[0]):
                        continue
                    call = new_method_call(DBusAddress(path, bus_name=name, interface=interface), method)
                    reply = conn.send_and_get_reply(call, timeout=_TIMEOUT)
                    if reply.header.message_type.name == "method_return" and reply.body:
                        return float(reply.body[0]) / 1000.0
            log.info("No desktop idle monitor on the session bus; using the app's own input")
        except Exception as exc:  # any failure here means: no desktop idle time
            log.info("No desktop idle time over D-Bus (%r); using the app's own input", exc)
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
