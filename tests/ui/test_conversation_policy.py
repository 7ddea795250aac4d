"""The organisation's policy in a conversation tab, a person's and a room's alike: the banner, warnings to
confirm, refusals inline, and templates (the organisation's and the user's own)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import KINDS, TIMEOUT, Tab, open_talk, prepare, running, use_policy

POLICY = """
[rules.work]
banner = "This conversation is archived"

[[rules.blocked_words]]
name = "no-promises"
words = ["guarantee"]
action = "block"

[[rules.blocked_words]]
name = "careful"
words = ["confidential"]
action = "warn"

[rules.templates]
thanks = "Thank you, we will get back to you."
"""


def _question(tab: Tab, qtbot: QtBot) -> QMessageBox:
    qtbot.waitUntil(lambda: tab.policy_question is not None and tab.policy_question.isVisible(), timeout=TIMEOUT)
    box = tab.policy_question
    assert box is not None
    return box


def _click(box: QMessageBox, text: str, qtbot: QtBot) -> None:
    (button,) = [b for b in box.buttons() if b.text() == text]
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("kind", KINDS)
def test_banner_warning_and_refusal(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    use_policy(tmp_path, monkeypatch, POLICY)
    w = gui_world
    prepare(w, kind)
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab
        assert tab.banner.isVisible() and tab.banner.text() == "This conversation is archived"

        # A warning: the user is asked, naming the rule and the reason; "Don't send" keeps the text.
        QTest.keyClicks(tab.input, "the confidential plan")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        box = _question(tab, qtbot)
        assert "blocked_words:careful" in box.informativeText() and "'confidential'" in box.informativeText()
        _click(box, "Don't send", qtbot)
        assert tab.input.toPlainText() == "the confidential plan"
        assert "you chose not to send it" in tab.error.text()
        assert talk.sent() == []

        # Asked again, "Send anyway" sends it (once) and empties the input.
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        _click(_question(tab, qtbot), "Send anyway", qtbot)
        qtbot.waitUntil(lambda: bool(talk.sent()), timeout=TIMEOUT)
        assert [m.body for m in talk.sent()] == ["the confidential plan"]
        assert tab.input.toPlainText() == "" and not tab.error.isVisible()

        # A denial: the reason with the rule inline, the text stays, nothing is sent.
        QTest.keyClicks(tab.input, "I guarantee it")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.error.isVisible(), timeout=TIMEOUT)
        assert "'guarantee'" in tab.error.text() and "[rule blocked_words:no-promises]" in tab.error.text()
        assert tab.input.toPlainText() == "I guarantee it"
        assert len(talk.sent()) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_templates_by_command_and_menu(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    use_policy(tmp_path, monkeypatch, POLICY)
    w = gui_world
    prepare(w, kind)
    with running(w, qtbot) as session:
        talk = open_talk(session.window, qtbot, w, kind)
        tab = talk.tab

        QTest.keyClicks(tab.input, "/t thanks")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.input.toPlainText() == "Thank you, we will get back to you.", timeout=TIMEOUT)
        assert talk.sent() == []  # inserted, not sent

        tab.composer.set_text("/t nope")
        QTest.keyClick(tab.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: tab.error.isVisible(), timeout=TIMEOUT)
        assert "no template called 'nope' (templates: thanks)" in tab.error.text()
        assert tab.input.toPlainText() == "/t nope"

        # Save the current text as the user's own template, through the menu.
        tab.composer.set_text("Back in five minutes.")
        menu = tab.templates.menu_
        (add,) = [a for a in menu.actions() if a.text() == "Add current text as template…"]
        add.trigger()
        dialog = tab.templates.name_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.setTextValue("brb")
        dialog.accept()
        qtbot.waitUntil(lambda: [t.name for t in tab.templates.templates] == ["brb", "thanks"], timeout=TIMEOUT)
        stored = json.loads((w.paths.config_dir / "templates.json").read_text(encoding="utf-8"))
        assert stored == {"brb": "Back in five minutes."}
        texts = [a.text() for a in menu.actions()]
        assert "thanks (organisation): Thank you, we will get back to you." in texts

        # The organisation's name cannot be taken.
        tab.templates.save("thanks", "mine")
        qtbot.waitUntil(lambda: "cannot be changed" in tab.error.text(), timeout=TIMEOUT)

        # The menu inserts a template where the cursor is.
        tab.composer.set_text("Hi! ")
        (brb,) = [a for a in menu.actions() if a.text().startswith("brb: ")]
        brb.trigger()
        assert tab.input.toPlainText() == "Hi! Back in five minutes."
