"""Contacts in the window, on a real Prosody with a second person on a plain slixmpp client: bob asks to
add us, the request banner shows it (and a desktop notification), Accept makes presence and messages flow
both ways; we add carol by address in the Add contact dialog and write to her; blocking her from the
contact menu (after a confirmation naming her) stops her messages. On the fake account: an address typed
in the quick switcher that matches nobody offers "Message ADDRESS…" and starts that conversation.
Screenshots of the banner and the dialog go to docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from aggregator.api import ContactRef, PresenceKind
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import core_of, running_session
from tests.ui.xmpp_world import XmppWorld, stored_bodies
from ui.app import Session
from ui.contact_dialog import AddContactDialog
from ui.notifications import Notification, Notifier

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class Capture(Notifier):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[Notification] = []

    def show(self, notification: Notification) -> None:
        self.shown.append(notification)


@pytest.fixture
def session(xmpp: XmppWorld, qtbot: QtBot) -> Iterator[tuple[Session, Capture]]:
    capture = Capture()
    with running_session(xmpp.world, qtbot) as s:
        old = s.windows.alerts.notifier
        s.windows.alerts.set_notifier(capture)
        old.close()
        strip = s.window.accounts_strip
        qtbot.waitUntil(lambda: "connected" in strip.state_text(xmpp.account_id), timeout=30_000)
        yield s, capture


def send(session: Session, account_id: str, to: str, body: str) -> None:
    core = core_of(session)
    session.engine.call(core.outbound.send(account_id, to, body), timeout=20)


def test_a_request_shows_and_accept_lets_presence_and_messages_flow_both_ways(
    xmpp: XmppWorld, session: tuple[Session, Capture], qtbot: QtBot
) -> None:
    s, capture = session
    window = s.window
    banner = window.contacts.banner
    bob = xmpp.peer("bob")
    xmpp.run(
        bob,
        lambda: bob.send_raw(
            f"<presence to='{xmpp.alice}' type='subscribe'><status>we met at the fair</status>"
            "<nick xmlns='http://jabber.org/protocol/nick'>Bob Builder</nick></presence>"
        ),
    )
    qtbot.waitUntil(lambda: bool(banner.rows), timeout=15_000)
    (row,) = banner.rows.values()
    assert banner.isVisible()
    assert row.label.text() == (
        f"Bob Builder ({bob.handle}) asks to add you as a contact (on Chat): “we met at the fair”"
    )
    assert [b.text() for b in (row.accept, row.decline, row.block)] == ["Accept", "Decline", "Block"]
    qtbot.waitUntil(lambda: bool(capture.shown))
    assert capture.shown[0].title == "Contact request" and "Bob Builder" in capture.shown[0].body
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    window.resize(980, 560)
    assert window.grab().save(str(SCREENSHOTS / "contact-request-banner.png"))

    QTest.mouseClick(row.accept, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.rows and not banner.isVisible(), timeout=15_000)
    # Accepting opens the conversation with them.
    qtbot.waitUntil(lambda: window.conversations.count() == 1, timeout=10_000)
    # Both ways: bob sees alice (accepted; alice asked back and bob's client accepted), alice sees bob.
    qtbot.waitUntil(lambda: bob.client.client_roster[xmpp.alice]["subscription"] == "both", timeout=15_000)
    xmpp.run(bob, lambda: bob.client.send_presence(pshow="away", pstatus="coffee"))

    def bob_row_presence() -> PresenceKind | None:
        row = next((p for p in window.model.persons() if any(c.ref.handle == bob.handle for c in p.contacts)), None)
        return row.presence if row is not None else None

    qtbot.waitUntil(lambda: bob_row_presence() is PresenceKind.AWAY, timeout=15_000)
    xmpp.on_loop(bob.send(xmpp.alice, "thanks for accepting"))
    qtbot.waitUntil(lambda: "thanks for accepting" in stored_bodies(s, bob.handle), timeout=15_000)
    send(s, xmpp.account_id, bob.handle, "welcome, Bob")
    assert xmpp.on_loop(bob.next_message(timeout=15)) == (xmpp.alice, "welcome, Bob")
    xmpp.on_loop(bob.close())


def test_add_a_contact_by_address_write_to_them_and_block_them(
    xmpp: XmppWorld, session: tuple[Session, Capture], qtbot: QtBot
) -> None:
    s, _capture = session
    window = s.window
    carol = xmpp.peer("carol")
    window.contacts.add_action.trigger()
    dialog = window.contacts.dialog
    assert isinstance(dialog, AddContactDialog)
    qtbot.waitUntil(lambda: dialog.account.count() == 2)
    xmpp_index = dialog.account.findData(xmpp.account_id)
    assert dialog.account.itemText(xmpp_index) == "Chat — XMPP (Jabber)"
    dialog.account.setCurrentIndex(xmpp_index)
    assert dialog.address.placeholderText().startswith("e.g. ")
    QTest.keyClicks(dialog.address, carol.address)
    QTest.keyClicks(dialog.name, "Carol Client")
    QTest.keyClicks(dialog.group, "Friends")
    assert dialog.grab().save(str(SCREENSHOTS / "add-contact-dialog.png"))
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: window.conversations.count() == 1, timeout=15_000)
    qtbot.waitUntil(lambda: carol.client.client_roster[xmpp.alice]["subscription"] == "both", timeout=15_000)
    assert carol.client.client_roster[xmpp.alice]["subscription"] == "both"
    person = next(p for p in window.model.persons() if any(c.ref.handle == carol.handle for c in p.contacts))
    assert person.name == "Carol Client"
    send(s, xmpp.account_id, carol.handle, "hello Carol")
    assert xmpp.on_loop(carol.next_message(timeout=15)) == (xmpp.alice, "hello Carol")

    # Block from her menu: the confirmation names her and the account.
    (contact,) = person.contacts
    box = window.contacts.confirm_block("Carol Client", contact)
    assert "Block Carol Client on Chat?" in box.text()
    block_button = next(b for b in box.buttons() if b.text() == "Block")
    QTest.mouseClick(block_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: contact.ref in window.contacts.blocked, timeout=15_000)
    xmpp.on_loop(carol.send(xmpp.alice, "can you hear me?"))
    window.contacts.run_command("Unblocking Carol", "unblock", contact.ref)
    qtbot.waitUntil(lambda: contact.ref not in window.contacts.blocked, timeout=15_000)
    xmpp.on_loop(carol.send(xmpp.alice, "and now?"))
    qtbot.waitUntil(lambda: "and now?" in stored_bodies(s, carol.handle), timeout=15_000)
    assert "can you hear me?" not in stored_bodies(s, carol.handle)
    xmpp.on_loop(carol.close())


def test_the_quick_switcher_offers_to_message_an_address_nobody_has(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running_session(gui_world, qtbot) as s:
        window = s.window
        qtbot.waitUntil(lambda: "connected" in window.accounts_strip.state_text(gui_world.account_id), timeout=10_000)
        switcher = window.show_switcher()
        QTest.keyClicks(switcher.filter, "dave@fake.test")
        assert switcher.message.isVisible() and switcher.message.text() == "Message dave@fake.test…"
        assert not switcher.empty.isVisible()
        QTest.keyClick(switcher.filter, Qt.Key.Key_Return)
        dialog = window.contacts.dialog
        assert isinstance(dialog, AddContactDialog)
        assert dialog.windowTitle() == "Message dave@fake.test"
        qtbot.waitUntil(lambda: dialog.account.count() == 1 and dialog.ok.isEnabled())
        QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.conversations.count() == 1, timeout=10_000)
        tab = window.conversations.currentWidget()
        assert "dave@fake.test" in window.conversations.tabText(window.conversations.indexOf(tab))

        # The filter too: an address nobody has offers the same.
        QTest.keyClicks(window.filter, "erin@fake.test")
        qtbot.waitUntil(lambda: window.contacts.message_button.isVisible())
        assert window.contacts.message_button.text() == "Message erin@fake.test…"


def test_block_in_the_banner_declines_and_blocks_them(
    xmpp: XmppWorld, session: tuple[Session, Capture], qtbot: QtBot
) -> None:
    s, _capture = session
    window = s.window
    banner = window.contacts.banner
    mallory = xmpp.peer("mallory")
    xmpp.run(mallory, lambda: mallory.client.send_presence_subscription(pto=xmpp.alice))
    qtbot.waitUntil(lambda: bool(banner.rows), timeout=15_000)
    (row,) = banner.rows.values()
    assert row.block.accessibleName() == f"Block {mallory.handle}"
    QTest.mouseClick(row.block, Qt.MouseButton.LeftButton)
    ref = ContactRef(xmpp.account_id, mallory.handle)
    qtbot.waitUntil(lambda: ref in window.contacts.blocked and not banner.isVisible(), timeout=15_000)
    assert mallory.client.client_roster[xmpp.alice]["subscription"] == "none"
    xmpp.on_loop(mallory.send(xmpp.alice, "let me in"))
    window.contacts.run_command("Unblocking", "unblock", ref)
    qtbot.waitUntil(lambda: ref not in window.contacts.blocked, timeout=15_000)
    xmpp.on_loop(mallory.send(xmpp.alice, "after unblocking"))
    qtbot.waitUntil(lambda: "after unblocking" in stored_bodies(s, mallory.handle), timeout=15_000)
    assert stored_bodies(s, mallory.handle) == ["after unblocking"]
    xmpp.on_loop(mallory.close())
