"""A pinned certificate in the window (offscreen): the strip warns for as long as the pin holds, and the
review dialog says "the certificate changed" when the server presented another one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountStore
from aggregator.accounts.trust import pin_fingerprint
from aggregator.api import CERTIFICATE_CHANGED
from aggregator.events import ConnectionState
from aggregator.policy import PolicyEngine
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import core_of
from tests.ui.test_certificate_dialog import details
from ui.app import Session, start_session
from ui.certificate_dialog import CertificateDialog

PIN = ":".join(["C3"] * 32)


@pytest.fixture
def pinned_session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    pin_fingerprint(
        AccountStore(gui_world.paths.accounts_file), PolicyEngine(), gui_world.paths, gui_world.account_id, PIN
    )
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.shutdown()


def test_a_pinned_account_shows_a_warning_in_every_state(
    pinned_session: Session, gui_world: GuiWorld, qtbot: QtBot
) -> None:
    strip = pinned_session.window.accounts_strip
    account_id = gui_world.account_id
    qtbot.waitUntil(lambda: strip.state_text(account_id) == ConnectionState.CONNECTED.value, timeout=20_000)
    qtbot.waitUntil(lambda: account_id in strip.pin_warnings, timeout=5000)
    label = strip.pin_warnings[account_id]
    assert label.isVisible()
    assert "pinned certificate, not verified" in label.text()
    assert PIN in label.toolTip() and "refused" in label.toolTip()
    assert "trusts a pinned certificate" in label.accessibleName()
    assert PIN in strip._label.toolTip()  # the accounts' summary says it too

    # Persistent: still shown once the account is offline, and after the list is read again.
    core = core_of(pinned_session)
    pinned_session.ctx.bridge.call(core.accounts.stop_account(account_id), lambda _r, _e: None)
    qtbot.waitUntil(lambda: strip.state_text(account_id) != ConnectionState.CONNECTED.value, timeout=20_000)
    strip.reload()
    qtbot.wait(0)
    qtbot.waitUntil(lambda: strip.pin_warnings.get(account_id) is not None, timeout=5000)
    assert strip.pin_warnings[account_id].isVisible()


def test_without_a_pin_there_is_no_warning(gui_world: GuiWorld, qtbot: QtBot) -> None:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        strip = s.window.accounts_strip
        qtbot.waitUntil(lambda: strip.state_text(gui_world.account_id) == "connected", timeout=20_000)
        assert strip.pin_warnings == {}
    finally:
        s.shutdown()


def test_a_changed_certificate_is_named_as_such(pinned_session: Session, gui_world: GuiWorld, qtbot: QtBot) -> None:
    changed = replace(details("CN=chat.example.org"), problem=f"{CERTIFICATE_CHANGED}: this account trusts only {PIN}")
    dialog = CertificateDialog(pinned_session.ctx, gui_world.account_id, "alice", changed)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.changed
    assert dialog.windowTitle() == "The certificate changed — alice"
    assert dialog.values["Problem"].text().startswith(CERTIFICATE_CHANGED)
    assert PIN in dialog.values["Problem"].text()
    plain = CertificateDialog(pinned_session.ctx, gui_world.account_id, "alice", details())
    qtbot.addWidget(plain)
    assert not plain.changed and plain.windowTitle().startswith("Untrusted certificate")
