"""The engine thread: one asyncio loop that runs the core, every adapter and the archive.

Other threads (the GUI, the CLI) never block on it: ``submit`` returns a
``concurrent.futures.Future`` and ``call`` waits for one only where waiting is right (the CLI).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class EngineThread:
    def __init__(self, name: str = "aggregator-engine") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the engine thread is not running")
        return self._loop

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the engine loop from any thread; never blocks."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the engine loop and wait for its result (not from the GUI thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("call() from the engine thread would deadlock")
        return self.submit(coro).result(timeout)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None
        self._loop = None
        self._ready.clear()


def on_result(future: concurrent.futures.Future[T], callback: Callable[[T | None, BaseException | None], Any]) -> None:
    """Call ``callback(result, error)`` when ``future`` completes (on the engine thread)."""

    def done(f: concurrent.futures.Future[T]) -> None:
        if f.cancelled():
            callback(None, concurrent.futures.CancelledError())
        elif (exc := f.exception()) is not None:
            callback(None, exc)
        else:
            callback(f.result(), None)

    future.add_done_callback(done)


async def maybe_await(value: Awaitable[T] | T) -> T:
    if isinstance(value, Awaitable):
        return await value
    return value
