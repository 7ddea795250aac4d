"""The window on a full disk: a warning above the buddy list says why nothing is stored, and goes
away by itself when there is space again (fake account, the profile on a small tmpfs, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.registry import ProtocolRegistry
from tests.small_disk import SmallDisk, small_disk
from tests.ui.conftest import GuiWorld, fast_core
from ui.app import Session, start_session

PADDING = "x" * 6000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """Mounted where ``gui_world`` puts the profile (request it first)."""
    with small_disk(tmp_path / "home", "16m") as mounted:
        try:
            yield mounted
        finally:
            mounted.free()


@pytest.fixture
def session(disk: SmallDisk, gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        disk.free()
        s.shutdown()


def test_the_window_says_the_disk_is_full_until_there_is_space(
    disk: SmallDisk, gui_world: GuiWorld, session: Session, qtbot: QtBot
) -> None:
    window, w = session.window, gui_world
    banner = window.storage_banner
    qtbot.waitUntil(lambda: w.server.online(w.alice), timeout=10000)
    assert not banner.isVisible()

    disk.fill()
    for n in range(40):
        w.on_server(w.server.deliver(w.bob, w.alice, f"while full {n}{PADDING}"))
    qtbot.waitUntil(banner.isVisible, timeout=10000)
    text = banner.label.text()
    assert text.startswith("Messages cannot be stored: the disk holding the archive") and "is full" in text
    assert banner.geometry().top() < window.splitter.geometry().top()  # above the buddy list

    disk.free()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=20000)
    qtbot.waitUntil(lambda: w.server.online(w.alice), timeout=20000)
