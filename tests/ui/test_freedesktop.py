"""Notifications through org.freedesktop.Notifications (a fake daemon on the test's private session bus)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

import resources
from ui.freedesktop import FreedesktopNotifier
from ui.notifications import Notification, Notifier

ROOT = Path(__file__).resolve().parents[2]


class Capture(Notifier):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[Notification] = []

    def show(self, notification: Notification) -> None:
        self.shown.append(notification)


class Daemon:
    def __init__(self, *caps: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.fake_notifyd", *caps],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.read() == {"ready": True}

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the fake notification daemon stopped"
        data: dict[str, Any] = json.loads(line)
        return data

    def click(self, number: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"click {number}\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def daemon_with_markup() -> Iterator[Daemon]:
    daemon = Daemon("body", "body-markup", "actions")
    yield daemon
    daemon.stop()


def test_notify_escapes_the_body_for_a_markup_daemon_and_a_click_opens(
    daemon_with_markup: Daemon, qtbot: QtBot
) -> None:
    fallback = Capture()
    notifier = FreedesktopNotifier(fallback)
    try:
        notifier.show(Notification("Bob <b>", "hi <b>bold</b> & <a href='x'>y</a>", 42))
        call = daemon_with_markup.read()
        assert call["method"] == "Notify"
        app, replaces, _icon, summary, body, actions = call["body"]
        assert (app, replaces, summary) == ("Aggregator", 0, "Bob <b>")  # the summary is never markup
        assert body == "hi &lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href='x'&gt;y&lt;/a&gt;"
        assert actions == ["default", "Open the conversation"]
        assert notifier.available and notifier.markup
        qtbot.waitUntil(lambda: notifier.person_of(call["id"]) == 42, timeout=5000)
        with qtbot.waitSignal(notifier.clicked, timeout=5000) as clicked:
            daemon_with_markup.click(call["id"])
        assert clicked.args == [42]
        assert fallback.shown == []
    finally:
        notifier.close()


def test_a_plain_daemon_gets_the_text_as_is() -> None:
    daemon = Daemon("body")
    notifier = FreedesktopNotifier(Capture())
    try:
        notifier.show(Notification("Bob", "1 < 2 & <b>", 7))
        call = daemon.read()
        assert call["body"][4] == "1 < 2 & <b>"
        assert call["body"][5] == []  # no actions where the daemon shows none
    finally:
        notifier.close()
        daemon.stop()


def test_without_a_daemon_the_fallback_shows_it(qtbot: QtBot) -> None:
    fallback = Capture()
    notifier = FreedesktopNotifier(fallback)
    try:
        notifier.show(Notification("Bob", "hello", 3))
        qtbot.waitUntil(lambda: fallback.shown == [Notification("Bob", "hello", 3)], timeout=5000)
        assert notifier.available is False
    finally:
        notifier.close()


def test_a_click_on_a_room_notification_opens_the_room(daemon_with_markup: Daemon, qtbot: QtBot) -> None:
    from aggregator.api import ConversationKey

    room = ConversationKey.room("fake:me@fake.test", "team@rooms.fake.test")
    notifier = FreedesktopNotifier(Capture())
    try:
        notifier.show(Notification("Bob in team@rooms.fake.test", "ali: look", room=room))
        call = daemon_with_markup.read()
        assert call["body"][5] == ["default", "Open the conversation"]
        qtbot.waitUntil(lambda: notifier.room_of(call["id"]) == room, timeout=5000)
        assert notifier.person_of(call["id"]) is None
        with qtbot.waitSignal(notifier.room_clicked, timeout=5000) as clicked:
            daemon_with_markup.click(call["id"])
        assert clicked.args == [room]
    finally:
        notifier.close()


def test_a_notification_names_our_desktop_entry_icon_and_chime() -> None:
    daemon = Daemon("body")
    notifier = FreedesktopNotifier(Capture())
    try:
        notifier.show(Notification("Bob", "hi", 7))
        call = daemon.read()
        hints = call["hints"]
        assert hints["desktop-entry"] == resources.APP_ID  # the installed .desktop file's name
        assert hints["category"] == "im.received"
        assert Path(hints["sound-file"]).read_bytes() == resources.notification_sound().read_bytes()
        icon = call["body"][2]
        assert icon.startswith("file:///") and icon.endswith("aggregator-64.png")
    finally:
        notifier.close()
        daemon.stop()
