from __future__ import annotations

import asyncio
import threading

import pytest

from aggregator.engine import EngineThread


def test_calls_from_another_thread_run_on_the_engine_loop() -> None:
    engine = EngineThread()
    engine.start()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert engine.call(where(), timeout=5) == "aggregator-engine"
        future = engine.submit(where())
        assert future.result(5) == "aggregator-engine"
    finally:
        engine.stop()


def test_errors_come_back_to_the_caller() -> None:
    engine = EngineThread()
    engine.start()
    try:

        async def fail() -> None:
            raise ValueError("bad input")

        with pytest.raises(ValueError, match="bad input"):
            engine.call(fail(), timeout=5)
    finally:
        engine.stop()


def test_submit_does_not_block_the_caller() -> None:
    engine = EngineThread()
    engine.start()
    try:
        gate = threading.Event()

        async def slow() -> int:
            await asyncio.to_thread(gate.wait, 5)
            return 42

        future = engine.submit(slow())
        assert not future.done()  # the caller went on while the engine works
        gate.set()
        assert future.result(5) == 42
    finally:
        engine.stop()
