"""Emoji render in colour, not as empty boxes: scripts/run and the test bootstrap install Noto Color
Emoji, and the app makes it the emoji fallback (ui/fonts.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from aggregator.api import ConversationKey, MessageKind, MessageState
from aggregator.app.names import SenderNames
from aggregator.archive.records import Direction, StoredMessage
from ui.fonts import EMOJI_FAMILY, add_emoji_font
from ui.message_view import MessageView
from ui.models.conversation_model import ConversationModel

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "emoji-message.png"
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


def test_a_message_with_emoji_shows_them_in_colour(qtbot: QtBot) -> None:
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
    image.save(str(SCREENSHOT))
    assert yellow_pixels(image) > 40  # three emoji faces; a missing glyph is an empty (grey) box
