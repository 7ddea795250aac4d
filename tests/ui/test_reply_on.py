""" "Reply on" follows the person: to the contact they are online on, then to where they last wrote;
the user's own choice holds for the session until they write from elsewhere; after a restart it does
not go back to a contact that is offline."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from aggregator.api import ContactRef, PresenceKind, Sphere
from aggregator.app.rows import ContactRow, PersonRow
from tests.ui.conftest import GuiWorld
from tests.ui.conversation_world import TIMEOUT, running, wait_connected
from tests.ui.sessions import engine_round_trip
from ui.conversation import ConversationTab
from ui.main_window import MainWindow
from ui.reply_target import reply_target


def _handle(tab: ConversationTab) -> str | None:
    ref = tab.reply_target()
    return None if ref is None else ref.handle


def _presence(tab: ConversationTab, handle: str) -> PresenceKind:
    return next(c.presence for c in tab.person.contacts if c.ref.handle == handle)


def _tab(window: MainWindow, handle: str) -> ConversationTab:
    person = next(p for p in window.model.persons() if any(c.ref.handle == handle for c in p.contacts))
    tab = window.open_person(person.id)
    assert tab is not None
    return tab


def test_reply_on_follows_presence_and_their_newest_message_and_survives_a_restart(
    gui_world: GuiWorld, qtbot: QtBot
) -> None:
    w = gui_world
    with running(w, qtbot) as session:
        window = session.window
        wait_connected(window, w, qtbot, w.bob, w.carol)
        ids = {p.best.handle: p.id for p in window.model.persons()}
        done: list[object] = []
        app = session.ctx.app
        # One human on two addresses (say, work XMPP and Matrix); both offline.
        session.ctx.bridge.run(lambda: app.merge_persons(ids[w.bob], ids[w.carol]), lambda r, e: done.append(e or r))
        qtbot.waitUntil(lambda: done == [ids[w.bob]], timeout=TIMEOUT)
        qtbot.waitUntil(lambda: len(_tab(window, w.bob).person.contacts) == 2, timeout=TIMEOUT)
        tab = _tab(window, w.bob)
        assert _handle(tab) == w.bob  # nobody online: the first contact

        # They come online on the other address: replies go there.
        w.on_server(w.server.set_presence(w.carol, PresenceKind.AVAILABLE))
        qtbot.waitUntil(lambda: _handle(tab) == w.carol, timeout=TIMEOUT)

        # Online on both: replies go where they last wrote.
        w.on_server(w.server.set_presence(w.bob, PresenceKind.AWAY))
        w.on_server(w.server.deliver(w.bob, w.alice, "from my desk"))
        qtbot.waitUntil(lambda: _handle(tab) == w.bob, timeout=TIMEOUT)
        w.on_server(w.server.deliver(w.carol, w.alice, "now on my phone"))
        qtbot.waitUntil(lambda: _handle(tab) == w.carol, timeout=TIMEOUT)

        # The user's own choice holds against presence changes...
        combo = tab._reply_on
        index = next(i for i in range(combo.count()) if combo.itemData(i).handle == w.bob)
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        w.on_server(w.server.set_presence(w.bob, PresenceKind.EXTENDED_AWAY))
        w.on_server(w.server.set_presence(w.carol, PresenceKind.BUSY))
        qtbot.waitUntil(lambda: _presence(tab, w.carol) is PresenceKind.BUSY, timeout=TIMEOUT)
        engine_round_trip(session, qtbot)
        assert _handle(tab) == w.bob
        # ... and for the session, when the tab is closed and opened again ...
        window.conversations.close_person(tab.person.id)
        tab = _tab(window, w.bob)
        qtbot.waitUntil(lambda: "now on my phone" in tab.view.toPlainText(), timeout=TIMEOUT)  # history in
        engine_round_trip(session, qtbot)
        assert _handle(tab) == w.bob
        # ... until they write from the other address.
        w.on_server(w.server.deliver(w.carol, w.alice, "still on the phone"))
        qtbot.waitUntil(lambda: _handle(tab) == w.carol, timeout=TIMEOUT)

        # What is sent goes there.
        tab.composer.set_text("ok, calling you")
        tab.send()
        qtbot.waitUntil(lambda: any(m.body == "ok, calling you" for m in w.server.received(w.alice)), timeout=TIMEOUT)
        assert [m.to for m in w.server.received(w.alice) if m.body == "ok, calling you"] == [w.carol]

        # They leave the phone: offline there, online (away) at the desk.
        w.on_server(w.server.set_presence(w.carol, PresenceKind.OFFLINE))
        w.on_server(w.server.set_presence(w.bob, PresenceKind.AWAY))
        qtbot.waitUntil(lambda: _handle(tab) == w.bob, timeout=TIMEOUT)

    # After a restart, the tab reopens: not on the offline address where they last wrote.
    with running(w, qtbot) as session:
        window = session.window
        pane = window.conversations
        qtbot.waitUntil(lambda: len(pane.tabs()) == 1, timeout=TIMEOUT)
        tab = pane.tabs()[0]
        qtbot.waitUntil(lambda: _presence(tab, w.bob) is PresenceKind.AWAY, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: _handle(tab) == w.bob, timeout=TIMEOUT)
        # Back on the phone: where they last wrote, online again.
        w.on_server(w.server.set_presence(w.carol, PresenceKind.AVAILABLE))
        qtbot.waitUntil(lambda: _handle(tab) == w.carol, timeout=TIMEOUT)


def _contact(handle: str, presence: PresenceKind) -> ContactRow:
    return ContactRow(ContactRef("fake:me", handle), handle, presence, "", "me", "Fake")


def test_the_reply_target_rule() -> None:
    desk, phone = _contact("desk", PresenceKind.OFFLINE), _contact("phone", PresenceKind.AVAILABLE)
    person = PersonRow(
        id=1,
        sphere=Sphere.WORK,
        name="Bob",
        group="",
        presence=PresenceKind.AVAILABLE,
        status="",
        best=phone.ref,
        protocols=("Fake",),
        unread=0,
        contacts=(desk, phone),
    )
    assert reply_target(person, chosen=None, last_inbound=None) == phone.ref
    assert reply_target(person, chosen=None, last_inbound=desk.ref) == phone.ref  # offline there
    assert reply_target(person, chosen=desk.ref, last_inbound=phone.ref) == desk.ref  # the user's choice
    gone = ContactRef("fake:me", "gone")
    assert reply_target(person, chosen=gone, last_inbound=gone) == phone.ref
