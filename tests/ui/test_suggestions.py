"""Merge suggestions in the desktop client: the button above the buddy list, the dialog, its model.

Two fake accounts (alice at work, "home" personal) both have bob and carol in their rosters, so the
core suggests merging each pair (same address on two accounts).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import Sphere
from aggregator.app.person_commands import SuggestionRow
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import engine_round_trip
from ui.app import Session, start_session
from ui.main_window import MainWindow
from ui.models.suggestions_model import SUGGESTION_ROLE, SuggestionsModel
from ui.suggestions import SuggestionsDialog

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal


def row(person: int, other: int, name: str = "Bob") -> SuggestionRow:
    return SuggestionRow(
        person=person,
        other=other,
        person_name=name,
        other_name=name.lower(),
        person_contacts=(f"{name.lower()}@a.test on work",),
        other_contacts=(f"{name.lower()}@a.test on home",),
        reason=f"same address '{name.lower()}@a.test'",
        person_sphere=Sphere.WORK,
    )


def test_the_model_updates_in_place(qtbot: QtBot) -> None:
    model = SuggestionsModel()
    QAbstractItemModelTester(model, FAIL)
    model.set_rows([row(3, 4, "Carol"), row(1, 2)])
    assert [model.index(r, 0).data(SUGGESTION_ROLE).key for r in range(2)] == [(1, 2), (3, 4)]
    text = model.index(0, 0).data()
    assert text.splitlines() == [
        "Bob (Work)  and  bob (Personal): same address 'bob@a.test'",
        "    Bob: bob@a.test on work",
        "    bob: bob@a.test on home",
    ]
    removed: list[int] = []
    model.rowsAboutToBeRemoved.connect(lambda _p, first, _l: removed.append(first))
    model.set_rows([row(1, 2), row(5, 6, "Dan"), row(3, 4, "Caroline")])  # one new, one changed
    assert removed == []
    assert model.rowCount() == 3 and model.index(1, 0).data().startswith("Caroline")
    model.remove((1, 2))
    model.set_rows([row(5, 6, "Dan")])
    assert model.rowCount() == 1 and removed == [0, 0]
    assert model.rowCount(model.index(0, 0)) == 0 and not model.index(0, 0, model.index(0, 0)).isValid()
    model.set_rows([])
    assert model.rowCount() == 0 and model.data(QModelIndex()) is None


@pytest.fixture
def two_accounts(gui_world: GuiWorld) -> Iterator[str]:
    """A second (personal) fake account; its id."""
    w = gui_world

    async def add() -> str:
        return w.server.add_user(f"home{uuid.uuid4().hex[:8]}@fake.test", "home-pw")

    home = w.on_server(add())
    account_id = make_account_id("fake", home)
    AccountStore(w.paths.accounts_file).add(
        AccountConfig(
            id=account_id,
            protocol="fake",
            address=home,
            label="Home",
            server=w.server.address,
            allow_plaintext=True,
            sphere=Sphere.PERSONAL,
        )
    )
    secrets = SecretStore(profile_id(w.paths))
    secrets.set_password(account_id, "home-pw")
    try:
        yield account_id
    finally:
        secrets.delete(account_id)


def start(gui_world: GuiWorld, home: str, qtbot: QtBot) -> Session:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    strip = s.window.accounts_strip
    qtbot.waitUntil(
        lambda: all("connected" in strip.state_text(a) for a in (gui_world.account_id, home)), timeout=10_000
    )
    return s


@pytest.fixture
def session(gui_world: GuiWorld, two_accounts: str, qtbot: QtBot) -> Iterator[Session]:
    s = start(gui_world, two_accounts, qtbot)
    try:
        yield s
    finally:
        s.shutdown()


@pytest.fixture
def strict_session(
    gui_world: GuiWorld, two_accounts: str, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    policy = tmp_path / "policy.toml"
    policy.write_text("[rules]\nmerge_across_spheres = false\n", encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))
    s = start(gui_world, two_accounts, qtbot)
    try:
        yield s
    finally:
        s.shutdown()


def persons_with(window: MainWindow, handle: str) -> list[int]:
    return [p.id for p in window.model.persons() if any(c.ref.handle == handle for c in p.contacts)]


def open_dialog(window: MainWindow, qtbot: QtBot) -> SuggestionsDialog:
    button = window.suggestions
    qtbot.waitUntil(lambda: button.isVisible() and button.text().startswith("2 merge suggestions"), timeout=5000)
    button.click()
    dialog = button.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_accepting_merges_and_rejecting_is_remembered(gui_world: GuiWorld, session: Session, qtbot: QtBot) -> None:
    window, w = session.window, gui_world
    dialog = open_dialog(window, qtbot)
    QAbstractItemModelTester(dialog.list.model(), FAIL)
    rows = [dialog.list.model().index(r, 0).data() for r in range(2)]
    bob_text = next(t for t in rows if w.bob in t)
    assert f"same address '{w.bob}'" in bob_text
    assert f"{w.bob} on {w.alice}" in bob_text and f"{w.bob} on Home" in bob_text
    assert "(Work)  and" in bob_text and "(Personal): same address" in bob_text
    assert len(persons_with(window, w.bob)) == 2

    # Accept bob's: one person with both contacts in the tree; the suggestion is gone.
    bob_row = next(r for r in range(2) if w.bob in dialog.list.model().index(r, 0).data())
    dialog.list.setCurrentIndex(dialog.list.model().index(bob_row, 0))
    dialog.merge_button.click()

    def merged() -> bool:
        ids = persons_with(window, w.bob)
        row = window.model.person(ids[0]) if len(ids) == 1 else None
        return row is not None and len(row.contacts) == 2

    qtbot.waitUntil(merged)
    qtbot.waitUntil(lambda: dialog.list.model().rowCount() == 1)
    assert window.suggestions.text().startswith("1 merge suggestion…")

    # Reject carol's: gone from the list and the button hides; the two carols stay apart.
    assert w.carol in dialog.current().person_contacts[0]  # type: ignore[union-attr]
    dialog.reject_button.click()
    qtbot.waitUntil(lambda: dialog.list.model().rowCount() == 0)
    qtbot.waitUntil(lambda: not window.suggestions.isVisible())
    assert dialog.empty.isVisible() and not dialog.merge_button.isEnabled()
    assert len(persons_with(window, w.carol)) == 2

    # Remembered: a fresh look at the core proposes nothing again.
    window.suggestions.feed.refresh()
    engine_round_trip(session, qtbot)  # the refresh's answer has been delivered
    assert dialog.list.model().rowCount() == 0 and not window.suggestions.isVisible()


def test_a_merge_the_policy_forbids_is_explained_in_the_dialog(
    gui_world: GuiWorld, strict_session: Session, qtbot: QtBot
) -> None:
    window, w = strict_session.window, gui_world
    dialog = open_dialog(window, qtbot)
    assert not dialog.error.isVisible()
    dialog.merge_button.click()
    qtbot.waitUntil(dialog.error.isVisible)
    text = dialog.error.text()
    assert text.startswith("Merge was refused: the organisation's policy keeps work and personal contacts apart")
    assert "merge_across_spheres" in text
    # Nothing merged; the suggestion stays (the user may reject it instead).
    assert len(persons_with(window, w.bob)) == 2 and len(persons_with(window, w.carol)) == 2
    assert dialog.list.model().rowCount() == 2 and dialog.merge_button.isEnabled()
    dialog.reject_button.click()
    qtbot.waitUntil(lambda: dialog.list.model().rowCount() == 1)
    assert not dialog.error.isVisible()
    assert dialog.list.currentIndex().data(Qt.ItemDataRole.DisplayRole) is not None
