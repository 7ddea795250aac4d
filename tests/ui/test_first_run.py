"""The first start and the empty states, as a user sees them (fake adapter, offscreen)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QMenu, QWidget
from pytestqt.qtbot import QtBot

from aggregator.accounts.secrets import SecretStore
from aggregator.app.log_sources import find_log_sources
from aggregator.paths import ProfilePaths
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import running_session
from ui import first_run, first_run_empty
from ui.app import Session, start_session
from ui.main_window import MainWindow

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def empty_session(
    tmp_path: Path, qtbot: QtBot, keyring_env: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    """A profile with no account; Pidgin's logs in the default folder of a home of its own."""
    home = tmp_path / "user"
    shutil.copytree(DATA / "pidgin" / "p2a-text" / "logs", home / ".purple" / "logs")
    monkeypatch.setattr("aggregator.app.application.find_log_sources", lambda: find_log_sources(home, {}))
    paths = ProfilePaths.resolve(tmp_path / "profile")
    session = start_session(paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(session.window)
    session.window.show()
    try:
        yield session
    finally:
        session.window.save_state()
        session.shutdown()


def visible_field_labels(editor: QWidget) -> set[str]:
    return {w.accessibleName() for w in editor.findChildren(QLineEdit) if w.isVisibleTo(editor)}


def test_a_profile_without_accounts_opens_on_the_welcome(empty_session: Session, qtbot: QtBot) -> None:
    window = empty_session.window
    page = window.first_run
    qtbot.waitUntil(lambda: window.right.currentWidget() is page, timeout=5000)
    assert page.intro.text().startswith("Aggregator keeps your XMPP, Matrix and IRC chats in one window")
    assert [b.text().replace("&", "") for b in page.account_buttons.values()] == [
        "Add an XMPP account",
        "Add a Matrix account",
        "Add an IRC account",
    ]
    assert empty_session.windows.accounts is None  # the welcome, not a dialog in the way
    qtbot.waitUntil(lambda: window.empty_list.label.isVisible(), timeout=5000)
    assert window.empty_list.label.text() == first_run_empty.NO_ACCOUNT
    status = next(w for w in window.accounts_strip.findChildren(QLabel) if w.accessibleName() == "Accounts")
    qtbot.waitUntil(lambda: status.text() == f"No account yet: add one in {first_run.ACCOUNTS_MENU}", timeout=5000)


def test_each_button_asks_for_just_what_its_protocol_needs(empty_session: Session, qtbot: QtBot) -> None:
    page = empty_session.window.first_run
    xmpp = page.add_account("xmpp")
    assert xmpp.isVisible() and xmpp.info().id == "xmpp"
    assert xmpp.windowTitle() == "Add your XMPP (Jabber) account"
    assert visible_field_labels(xmpp) == {"Jabber ID", "Password", "Label"}  # no server, resource, ...
    xmpp.reject()
    page.account_buttons["irc"].click()
    irc = page.editor
    assert irc is not None and irc.info().id == "irc"
    shown = visible_field_labels(irc)
    needed = {f.label for f in irc.info().fields if f.required or f.secret}
    assert shown == needed | {"Label"}
    assert {"Server", "Password"} <= shown
    more = next(c for c in irc.findChildren(QCheckBox) if c.accessibleName() == "Show all account options")
    more.click()
    assert len(visible_field_labels(irc)) > len(shown)
    irc.reject()


def test_adding_an_account_ends_the_first_run(empty_session: Session, gui_world: GuiWorld, qtbot: QtBot) -> None:
    window = empty_session.window
    page = window.first_run
    qtbot.waitUntil(lambda: page.needed is True, timeout=5000)
    editor = page.add_account("fake")
    fields = {w.accessibleName(): w for w in editor.findChildren(QLineEdit)}
    fields["Address"].setText(gui_world.bob)
    fields["Password"].setText("bob-pw")
    fields["Server"].setText(gui_world.server.address)
    plain = next(c for c in editor.findChildren(QCheckBox) if c.accessibleName() == "Allow unencrypted connection")
    plain.setChecked(True)
    editor._accept()
    try:
        qtbot.waitUntil(lambda: window.right.currentWidget() is window.placeholder, timeout=10000)
        assert window.placeholder.text() == first_run_empty.NO_CONVERSATION
    finally:
        SecretStore(profile_id(empty_session.paths)).delete(editor.config.id if editor.config else "")


def test_old_logs_found_in_their_default_folder_are_offered(empty_session: Session, qtbot: QtBot) -> None:
    page = empty_session.window.first_run
    qtbot.waitUntil(lambda: len(page.import_buttons) == 1, timeout=5000)
    button = page.import_buttons[0]
    assert button.text() == f"Import Pidgin logs from {page.sources[0].folder}"
    button.click()
    dialog = empty_session.windows.importer
    assert dialog is not None and dialog.isVisible()
    assert dialog.client.currentData() == "pidgin"
    assert dialog.folder.text() == str(page.sources[0].folder)


def test_empty_states_with_an_account(gui_world: GuiWorld, qtbot: QtBot) -> None:
    with running_session(gui_world, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: window.first_run.needed is False, timeout=5000)
        assert window.right.currentWidget() is window.placeholder
        assert "Ctrl+K" in window.placeholder.text()
        window.filter.setText("nobody-is-called-this")
        qtbot.waitUntil(lambda: window.empty_list.label.isVisible(), timeout=5000)
        assert window.empty_list.label.text().startswith("No one matches “nobody-is-called-this”.")
        window.no_rooms.update()
        assert window.no_rooms.menu is not None and window.no_rooms.action.isVisible()
        assert window.no_rooms.action in window.no_rooms.menu.actions()


MENU_PATH = re.compile(r"(\w[\w ]*)\s→\s([^:.,()\n]+…?)")


def menu_items(window: MainWindow) -> set[tuple[str, str]]:
    items = set()
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            for action in menu.actions():
                items.add((top.text().replace("&", ""), action.text().replace("&", "")))
    return items


def test_every_menu_the_texts_name_exists(gui_world: GuiWorld, qtbot: QtBot) -> None:
    texts = [
        *first_run.MENU_PATHS,
        first_run_empty.NO_ACCOUNT,
        first_run_empty.NO_CONTACTS,
        first_run_empty.NO_CONVERSATION,
    ]
    with running_session(gui_world, qtbot) as session:
        window = session.window
        page = window.first_run
        texts += [page.intro.text(), page.import_intro.text(), window.placeholder.text()]
        texts += [w.text() for w in page.findChildren(type(page.intro))]

        items = menu_items(window)
        named = [m.groups() for t in texts for m in MENU_PATH.finditer(t)]
        assert len(named) >= 5
        missing = [
            f"{menu} {first_run.ARROW} {item}" for menu, item in named if (menu.split()[-1], item.strip()) not in items
        ]
        assert missing == []
        # the checker fails on a menu that is not there
        assert ("Accounts", "Add account…") not in items
