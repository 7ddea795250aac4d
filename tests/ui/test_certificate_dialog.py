"""The certificate dialog: an IRC account without a CA file on the session's InspIRCd fails on the test
CA's certificate; the window shows that certificate and the user decides."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import AccountConfig, AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import CertificateDetails
from aggregator.events import ConnectionState
from aggregator.paths import ProfilePaths
from aggregator.policy import PolicyEngine
from aggregator.policy.file import Policy, ProfileSpec
from aggregator.policy.state import PolicyState
from aggregator.profile import profile_id
from aggregator.registry import ProtocolRegistry
from tests.contract.irc_harness import IrcHarness
from tests.core.test_certificate_trust_live import leaf_fingerprint
from tests.servers.certs import TestCerts
from tests.ui.conftest import GuiWorld, fast_core
from tests.ui.sessions import core_of
from ui.app import Session, start_session
from ui.certificate_dialog import TRUST_TEXT, CertificateDialog, open_dialog

TIMEOUT_MS = 40_000


@pytest.fixture
async def irc_profile(tmp_path: Path, keyring_env: None, irc_harness: IrcHarness) -> tuple[ProfilePaths, str]:
    nick, password = await irc_harness.new_user()
    paths = ProfilePaths.resolve(tmp_path / "home")
    paths.ensure()
    account_id = make_account_id("irc", nick)
    AccountStore(paths.accounts_file).add(
        AccountConfig(id=account_id, protocol="irc", address=nick, server=irc_harness.server.tls_address)
    )
    SecretStore(profile_id(paths)).set_password(account_id, password)
    return paths, account_id


@pytest.fixture
def irc_session(irc_profile: tuple[ProfilePaths, str], qtbot: QtBot) -> Iterator[Session]:
    paths, account_id = irc_profile
    s = start_session(paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    s.window.show()
    try:
        yield s
    finally:
        s.shutdown()
        SecretStore(profile_id(paths)).delete(account_id)


def shown_dialog(qtbot: QtBot, session: Session, account_id: str) -> CertificateDialog:
    strip = session.window.accounts_strip
    try:
        qtbot.waitUntil(lambda: open_dialog(account_id) is not None, timeout=TIMEOUT_MS)
    except TimeoutError:
        raise AssertionError(f"no certificate dialog; the account is {strip.state_text(account_id)}") from None
    dialog = open_dialog(account_id)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


async def test_a_certificate_failure_is_shown_and_trusting_it_connects(
    irc_session: Session, irc_profile: tuple[ProfilePaths, str], test_certs: TestCerts, qtbot: QtBot
) -> None:
    paths, account_id = irc_profile
    strip = irc_session.window.accounts_strip

    # The failure happens while the window is open: the dialog opens by itself.
    dialog = shown_dialog(qtbot, irc_session, account_id)
    assert "failed" in strip.state_text(account_id) and "not trusted" in strip.state_text(account_id)
    assert dialog.values["SHA-256"].text().replace("\n", ":") == leaf_fingerprint(test_certs.cert_file)
    assert dialog.values["Issued to"].text() == "CN=localhost"
    assert dialog.values["Issued by"].text() == "CN=IM Test CA"
    assert dialog.values["Server"].text() == AccountStore(paths.accounts_file).resolve(account_id).server
    assert dialog.values["Problem"].text() in strip.state_text(account_id)
    assert dialog.values["Valid"].text().startswith("from ")
    assert dialog.cancel_button.isDefault() and not dialog.trust_button.isDefault()
    assert dialog.trust_button.text() == TRUST_TEXT and dialog.trust_button.isEnabled()

    # Enter takes the default, Cancel: nothing is trusted and the account stays failed.
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: open_dialog(account_id) is None, timeout=5000)
    assert AccountStore(paths.accounts_file).resolve(account_id).ca_file is None
    assert account_id in strip.review_buttons
    assert "Certificate problem — review…" in strip.review_buttons[account_id].text()

    # The accounts dialog marks the entry; double-clicking it opens the certificate again.
    accounts = irc_session.windows.show_accounts()
    qtbot.waitUntil(lambda: accounts.list.count() == 1 and "review" in accounts.list.item(0).text(), timeout=5000)
    accounts.list.setCurrentRow(0)
    assert accounts.certificate_button.isVisible()
    item = accounts.list.item(0)
    rect = accounts.list.visualItemRect(item)
    QTest.mouseClick(accounts.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.mouseDClick(accounts.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = shown_dialog(qtbot, irc_session, account_id)
    dialog.reject()
    qtbot.waitUntil(lambda: open_dialog(account_id) is None, timeout=5000)
    accounts.close()

    # The strip's button opens it too; "Trust" pins the certificate and the account connects.
    QTest.mouseClick(strip.review_buttons[account_id], Qt.MouseButton.LeftButton)
    dialog = shown_dialog(qtbot, irc_session, account_id)
    QTest.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: strip.state_text(account_id) == ConnectionState.CONNECTED.value, timeout=TIMEOUT_MS)
    assert open_dialog(account_id) is None and dialog.trusted
    assert account_id not in strip.review_buttons
    pinned = AccountStore(paths.accounts_file).resolve(account_id).pinned_certificate
    assert pinned == dialog.certificate.fingerprint_sha256
    qtbot.waitUntil(lambda: account_id in strip.pin_warnings, timeout=5000)
    assert strip.pin_warnings[account_id].isVisible() and pinned in strip.pin_warnings[account_id].toolTip()


@pytest.fixture
def fake_session(gui_world: GuiWorld, qtbot: QtBot) -> Iterator[Session]:
    s = start_session(gui_world.paths, ProtocolRegistry.discover(), core_factory=fast_core)
    qtbot.addWidget(s.window)
    try:
        yield s
    finally:
        s.shutdown()


def details(subject: str = "CN=<b>bold</b> & co") -> CertificateDetails:
    return CertificateDetails(
        host="chat.example.org:6697",
        problem="self-signed certificate",
        subject=subject,
        issuer=subject,
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2027, 1, 1, tzinfo=UTC),
        fingerprint_sha256=":".join(["AB"] * 32),
        pem="-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    )


def test_server_chosen_names_are_plain_text(fake_session: Session, gui_world: GuiWorld, qtbot: QtBot) -> None:
    dialog = CertificateDialog(fake_session.ctx, gui_world.account_id, "alice", details())
    qtbot.addWidget(dialog)
    dialog.show()
    subject = dialog.values["Issued to"]
    assert subject.textFormat() is Qt.TextFormat.PlainText
    assert subject.text() == "CN=<b>bold</b> & co (self-signed)"
    assert dialog.values["Valid"].text() == "from 2026-01-01 00:00 UTC until 2027-01-01 00:00 UTC"
    assert dialog.values["Problem"].text() == "self-signed certificate"
    for widget in (dialog.trust_button, dialog.cancel_button, *dialog.values.values()):
        assert widget.accessibleName()


def test_a_locked_ca_file_refuses_with_the_reason(fake_session: Session, gui_world: GuiWorld, qtbot: QtBot) -> None:
    core = core_of(fake_session)
    spec = ProfileSpec(name="corp-chat", protocol="fake", username="alice", locked=frozenset({"ca_file"}))
    state = PolicyState.load(gui_world.paths.config_dir)
    state.profiles["corp-chat"] = gui_world.account_id
    state.save()
    core.policy = PolicyEngine(Policy(profiles=(spec,)))
    dialog = CertificateDialog(fake_session.ctx, gui_world.account_id, "alice", details())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.trust_button.isEnabled(), timeout=5000)
    assert dialog.error.isVisible()
    assert "locked by the organisation's policy" in dialog.error.text() and "corp-chat" in dialog.error.text()
    assert json.loads(gui_world.paths.accounts_file.read_text())["accounts"][0]["ca_file"] is None
