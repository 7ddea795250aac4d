"""Emoji render in colour, not as empty boxes: scripts/run and the test bootstrap install Noto Color
Emoji, and the app makes it the emoji fallback (ui/fonts.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.app.names import SenderNames
from aggregator.archive.records import Direction, StoredMessage
from tests.ui.screenshots import screenshot_path
from ui.fonts import EMOJI_FAMILY, add_emoji_font
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel

ACCOUNT = "fake:alice@fake.test"


def yellow_pixels(image: QImage) -> int:
    """Pixels of an emoji face's yellow (nothing else in the view is yellow: the text is blue and grey)."""
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            color = QColor(image.pixel(x, y))
            if 35 <= color.hsvHue() <= 60 and color.hsvSaturation() > 120 and color.value() > 150:
                count += 1
    return count


def test_a_message_with_emoji_shows_them_in_colour(qtbot: QtBot, tmp_path: Path) -> None:
    assert add_emoji_font() == EMOJI_FAMILY  # installed by the bootstrap, made the emoji fallback
    model = ConversationModel()
    view = MessageView(model)
    qtbot.addWidget(view)
    view.set_names(SenderNames(own={ACCOUNT: "Alice"}))
    view.resize(420, 120)
    at = datetime(2026, 3, 12, 9, 30).astimezone()
    message = StoredMessage(
        id=1,
        account_id=ACCOUNT,
        conversation_id=1,
        conversation=ConversationKey.direct(ACCOUNT, "bob@fake.test"),
        direction=Direction.OUT,
        kind=MessageKind.CHAT,
        body="Shipped it 😀🎉 see you at the party 🥳",
        sender="alice@fake.test",
        sent_at=at,
        received_at=at,
        state=MessageState.SENT,
    )
    model.fetchMore(QModelIndex())
    model.prepend([message], has_more=False)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: "Shipped it" in view.toPlainText(), timeout=5000)
    image = view.grab().toImage()
    image.save(str(screenshot_path("emoji-message.png", tmp_path)))
    assert yellow_pixels(image) > 40  # three emoji faces; a missing glyph is an empty (grey) box


_PROBE = """
import sys
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel
from tests.ui.screenshots import screenshot_path
from ui.fonts import add_emoji_font
app = QApplication([])
add_emoji_font()
label = QLabel("Shipped it \\U0001F600\\U0001F389")
label.resize(300, 40)
label.show()
app.processEvents()
image = label.grab().toImage()
hits = 0
for y in range(image.height()):
    for x in range(image.width()):
        c = QColor(image.pixel(x, y))
        hits += 35 <= c.hsvHue() <= 60 and c.hsvSaturation() > 120 and c.value() > 150
print(hits)
"""


def test_emoji_show_even_where_fontconfig_does_not_list_the_emoji_font(tmp_path: Path) -> None:
    """A desktop whose font configuration leaves the emoji font out (only DejaVu here): the app loads
    the installed file itself and makes it the emoji fallback."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "FONTCONFIG_FILE": str(config)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 40, result.stderr
