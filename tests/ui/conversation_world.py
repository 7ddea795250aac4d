"""Helpers for the conversation tab tests: a running session on the fake world, and a tab with bob open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session
from ui.conversation import ConversationTab
from ui.main_window import MainWindow

TIMEOUT = 10_000


def use_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(path))
    return path


@contextmanager
def running(world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.window.save_state()
        s.shutdown()


def wait_connected(window: MainWindow, world: GuiWorld, qtbot: QtBot, *handles: str) -> None:
    qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(world.account_id), timeout=TIMEOUT)
    for handle in handles or (world.bob,):
        qtbot.waitUntil(lambda h=handle: any(p.best.handle == h for p in window.model.persons()), timeout=TIMEOUT)  # type: ignore[misc]


def open_tab(window: MainWindow, qtbot: QtBot, handle: str) -> ConversationTab:
    person = next(p for p in window.model.persons() if p.best.handle == handle)
    tab = window.open_person(person.id)
    assert tab is not None
    qtbot.waitUntil(lambda: tab.reply_info is not None, timeout=TIMEOUT)
    return tab
