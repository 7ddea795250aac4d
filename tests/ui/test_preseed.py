"""The organisation's preseeded accounts: the window asks only for what is missing, then they connect."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from aggregator.accounts.config import make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.profile import profile_id
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import engine_round_trip, running_session


def test_preseeded_accounts_ask_only_for_what_is_missing_then_connect(
    gui_world: GuiWorld, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = gui_world
    carol_local, domain = w.carol.split("@")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f"""
[[profiles]]
name = "chat"
protocol = "fake"
label = "Company chat"
username = "${{USER}}@{domain}"
server = "{w.server.address}"
allow_plaintext = true

[[profiles]]
name = "desk"
protocol = "fake"
username = "${{ASK}}"
server = "{w.server.address}"
allow_plaintext = true
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("AGGREGATOR_POLICY", str(policy))
    monkeypatch.setenv("USER", carol_local)
    carol, bob = make_account_id("fake", w.carol), make_account_id("fake", w.bob)

    with running_session(w, qtbot) as session:
        windows = session.windows
        windows.first_run_check()
        # First the account whose username the policy knows: only the password is asked.
        qtbot.waitUntil(lambda: windows.preseed is not None and windows.preseed.isVisible(), timeout=10_000)
        first = windows.preseed
        assert first is not None and "Company chat" in first.windowTitle()
        assert first.username.isHidden()
        first.sign_in.click()  # nothing typed: a clear error, the dialog stays
        qtbot.waitUntil(lambda: first.error.isVisible(), timeout=5000)
        assert first.error.text() == "Not signed in: enter the password" and first.isVisible()
        first.password.setText("carol-pw")
        first.sign_in.click()
        # Then the profile that asks for a username.
        qtbot.waitUntil(lambda: windows.preseed is not None and windows.preseed is not first, timeout=10_000)
        second = windows.preseed
        assert second is not None and not second.username.isHidden()
        second.password.setText("bob-pw")
        second.sign_in.click()
        qtbot.waitUntil(lambda: second.error.isVisible(), timeout=5000)
        assert second.error.text() == "Not signed in: enter your username for this account"
        second.username.setText(w.bob)
        second.sign_in.click()
        qtbot.waitUntil(lambda: windows.preseed is None, timeout=10_000)

        strip = session.window.accounts_strip
        qtbot.waitUntil(lambda: all(strip.state_text(a).startswith("connected") for a in (carol, bob)), timeout=15_000)
        secrets = SecretStore(profile_id(w.paths))
        assert secrets.credentials(carol).password == "carol-pw"
        assert secrets.credentials(bob).password == "bob-pw"
        assert "carol-pw" not in w.paths.accounts_file.read_text(encoding="utf-8")

    # The next start asks nothing: both are set up.
    with running_session(w, qtbot) as session:
        session.windows.ask_preseeded()
        engine_round_trip(session, qtbot)  # the question to the engine has been answered
        assert session.windows.preseed is None
