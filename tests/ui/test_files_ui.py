"""Files in the window (issue 16, item 6), on a real Prosody with bob on a plain slixmpp client: his picture
shows inline as a thumbnail with Open and Save as…, saved with the same bytes; a file held because no
virus scanner answers shows why and offers no Open; our file goes out from the tab and reaches bob intact.
Screenshots of a picture inline, a transfer in progress and a held file go to docs/screenshots/."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.app.files import AttachmentState
from aggregator.events import AttachmentProgress
from tests.files.peer_upload import fetch, peer_upload, send_link
from tests.ui.screenshots import screenshot_path
from tests.ui.sessions import running_session
from tests.ui.xmpp_world import XmppWorld, stored_bodies
from ui.app import Session
from ui.conversation import ConversationTab


def _png(width: int, height: int) -> bytes:
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#3a7bd5"))
    for x in range(0, width, 8):
        for y in range(0, height, 8):
            if (x // 8 + y // 8) % 2:
                image.setPixelColor(x, y, QColor("#f5a623"))
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pic-{os.getpid()}.png"
    assert image.save(str(path))
    return path.read_bytes()


@pytest.fixture
def session(
    xmpp: XmppWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Session]:
    if "held" in request.node.name:
        # Scanning required, with a scanner that is not there: files are held (fail closed).
        policy = tmp_path / "policy.toml"
        policy.write_text(
            f'version = 1\n[rules]\nclamd_socket = "{tmp_path / "no-clamd.sock"}"\n'
            '[rules.personal]\nfile_transfer = "scan"\nscan_required = true\n'
        )
        monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))
    with running_session(xmpp.world, qtbot) as s:
        strip = s.window.accounts_strip
        qtbot.waitUntil(lambda: "connected" in strip.state_text(xmpp.account_id), timeout=30_000)
        yield s


def _open_tab(s: Session, qtbot: QtBot, handle: str) -> ConversationTab:
    window = s.window
    qtbot.waitUntil(lambda: any(p.best.handle == handle for p in window.model.persons()), timeout=15_000)
    person = next(p for p in window.model.persons() if p.best.handle == handle)
    tab = window.open_person(person.id)
    assert tab is not None
    return tab


def test_a_picture_shows_inline_saves_intact_and_our_file_reaches_bob(
    xmpp: XmppWorld, session: Session, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = session
    bob = xmpp.peer("bob")
    picture = _png(480, 300)
    url = xmpp.on_loop(
        peer_upload(bob, xmpp.prosody.domain, xmpp.prosody.certs.ca_file, "team.png", picture, "image/png")
    )
    xmpp.run(bob, lambda: send_link(bob, xmpp.alice, url, "ui-pic"))
    tab = _open_tab(s, qtbot, bob.handle)
    shelf = tab.sending.shelf

    def card() -> str:
        return tab.view.toPlainText()

    qtbot.waitUntil(
        lambda: any(f.state is AttachmentState.CLEAN for m in tab.model.messages for f in shelf.files_of(m.id)),
        timeout=30_000,
    )
    assert "team.png" in card() and "Open" in card() and "Save as…" in card()
    html = tab.view.toHtml()
    assert "aggregator-thumb:" in html  # the picture is inline
    (file,) = [f for m in tab.model.messages for f in shelf.files_of(m.id)]
    s.window.resize(900, 620)
    assert s.window.grab().save(str(screenshot_path("file-picture-inline.png", tmp_path)))

    target = tmp_path / "saved.png"
    monkeypatch.setattr("ui.file_actions.QFileDialog.getSaveFileName", lambda *_a, **_k: (str(target), ""))
    tab.view.file_action.emit("save", file.id)
    qtbot.waitUntil(target.exists, timeout=10_000)
    qtbot.waitUntil(lambda: tab.composer.note.text() == f"Saved {target}", timeout=10_000)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(picture).digest()

    # A bigger file: its row shows the transfer in progress (the events the core publishes while bytes move).
    big = os.urandom(1024 * 1024) * 24
    url = xmpp.on_loop(
        peer_upload(
            bob, xmpp.prosody.domain, xmpp.prosody.certs.ca_file, "dataset.bin", big, "application/octet-stream"
        )
    )
    progress: list[AttachmentProgress] = []
    s.ctx.bridge.attachment_progress.connect(progress.append)
    seen_moving: list[bool] = []

    def moving_or_done() -> bool:
        text = tab.view.toPlainText()
        if "so far" in text and not seen_moving:  # the row while bytes move: the screenshot of it
            seen_moving.append(True)
            assert s.window.grab().save(str(screenshot_path("file-transfer-progress.png", tmp_path)))
        return text.count("Save as…") == 2

    xmpp.run(bob, lambda: send_link(bob, xmpp.alice, url, "ui-big"))
    qtbot.waitUntil(moving_or_done, timeout=60_000)
    assert progress and progress[0].done > 0  # the first chunk is always reported
    ours = tmp_path / "minutes.txt"
    ours.write_text("minutes of the meeting\n")
    tab.sending.files.send(ours)
    _sender, link = xmpp.on_loop(bob.next_message(timeout=20))
    assert xmpp.on_loop(fetch(xmpp.prosody.certs.ca_file, link)) == ours.read_bytes()
    qtbot.waitUntil(lambda: "minutes.txt" in stored_bodies(s, bob.handle), timeout=10_000)
    xmpp.on_loop(bob.close())


def test_a_held_file_says_why_and_cannot_be_opened(
    xmpp: XmppWorld, session: Session, qtbot: QtBot, tmp_path: Path
) -> None:
    s = session
    bob = xmpp.peer("bob")
    url = xmpp.on_loop(
        peer_upload(
            bob, xmpp.prosody.domain, xmpp.prosody.certs.ca_file, "report.pdf", b"%PDF-1.4 report", "application/pdf"
        )
    )
    xmpp.run(bob, lambda: send_link(bob, xmpp.alice, url, "ui-held"))
    tab = _open_tab(s, qtbot, bob.handle)
    shelf = tab.sending.shelf
    qtbot.waitUntil(
        lambda: any(
            f.state is not AttachmentState.OFFERED and f.state is not AttachmentState.TRANSFERRING
            for m in tab.model.messages
            for f in shelf.files_of(m.id)
        ),
        timeout=30_000,
    )
    (file,) = [f for m in tab.model.messages for f in shelf.files_of(m.id)]
    text = tab.view.toPlainText()
    xmpp.on_loop(bob.close())
    if file.state is AttachmentState.CLEAN:
        pytest.fail(f"the file was released without a scanner: {text}")
    assert file.state is AttachmentState.QUARANTINED
    assert "held: the virus scanner cannot be reached" in text
    assert "Open" not in text.split("report.pdf", 1)[1]
    tab.view.file_action.emit("open", file.id)
    assert "cannot be opened" in tab.error.text()
    s.window.resize(900, 520)
    assert s.window.grab().save(str(screenshot_path("file-held.png", tmp_path)))
