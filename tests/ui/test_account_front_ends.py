"""The window and the command line change accounts through the same application-layer commands
(``aggregator.app.accounts``), so they do the same thing. Each test runs one command through BOTH
front ends (the ``aggregator`` console script in a subprocess; the window offscreen) and asserts the
same result: what ``accounts.json``, ``rooms.json`` and the keyring hold afterwards."""

from __future__ import annotations

import errno
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from aggregator.accounts import config as account_config
from aggregator.accounts.config import AccountStore, make_account_id
from aggregator.accounts.secrets import SecretStore
from aggregator.api import Sphere
from aggregator.profile import profile_id
from aggregator.rooms.records import WantedRoom
from aggregator.rooms.store import FILE_NAME as ROOMS_FILE
from aggregator.rooms.store import RoomStore
from tests.conftest import cli_env
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from ui.account_dialog import AccountEditor, AccountsDialog

AGGREGATOR = Path(sys.executable).with_name("aggregator")
FRONT_ENDS = ["cli", "window"]


def cli(world: GuiWorld, *args: str, stdin: str = "", limit_files: bool = False) -> subprocess.CompletedProcess[str]:
    def no_file_writes() -> None:  # every file write fails with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    return subprocess.run(
        [str(AGGREGATOR), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(world.paths.config_dir.parent),
        timeout=60,
        preexec_fn=no_file_writes if limit_files else None,
        check=False,
    )


def in_window(world: GuiWorld, qtbot: QtBot, act: Callable[[AccountsDialog], None], done: Callable[[], bool]) -> None:
    """Open the accounts dialog of a running window, ``act`` on it, wait for ``done``, close the window."""
    with running_session(world, qtbot) as s:
        dialog = s.windows.show_accounts()
        qtbot.waitUntil(lambda: dialog.list.count() >= 1, timeout=10_000)
        act(dialog)
        qtbot.waitUntil(done, timeout=10_000)


def select(dialog: AccountsDialog, account_id: str) -> None:
    for row in range(dialog.list.count()):
        if dialog.list.item(row).data(Qt.ItemDataRole.UserRole) == account_id:
            dialog.list.setCurrentRow(row)
            return
    raise AssertionError(f"{account_id} is not in the accounts dialog")


def password(world: GuiWorld, account_id: str) -> str | None:
    return SecretStore(profile_id(world.paths)).credentials(account_id).password


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_removing_an_account_removes_its_rooms_and_password_but_not_the_others(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, front_end: str
) -> None:
    w = gui_world
    other = make_account_id("fake", w.bob)
    AccountStore(w.paths.accounts_file).add(account_config.AccountConfig(id=other, protocol="fake", address=w.bob))
    rooms = RoomStore(w.paths.config_dir / ROOMS_FILE)
    rooms.save(
        {w.account_id: [WantedRoom("team@rooms.fake.test")], other: [WantedRoom("other@rooms.fake.test")]},
        {w.account_id: ["old@rooms.fake.test"]},
    )
    if front_end == "cli":
        result = cli(w, "account", "remove", w.account_id)
        assert result.returncode == 0, result.stderr
        assert "rooms" in result.stdout
    else:
        monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)

        def remove(dialog: AccountsDialog) -> None:
            select(dialog, w.account_id)
            dialog.remove_button.click()

        in_window(w, qtbot, remove, lambda: AccountStore(w.paths.accounts_file).get(w.account_id) is None)

    assert [a.id for a in AccountStore(w.paths.accounts_file).load()] == [other]
    choices = rooms.load_choices()
    assert dict(choices.wanted) == {other: [WantedRoom("other@rooms.fake.test")]} and not choices.left
    assert password(w, w.account_id) is None


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_a_failed_save_keeps_the_stored_password(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, front_end: str
) -> None:
    w = gui_world
    new_id = make_account_id("fake", w.carol)
    before = w.paths.accounts_file.read_text(encoding="utf-8")
    try:
        if front_end == "cli":
            result = cli(
                w, "account", "add", "fake", w.carol, "--password-stdin", "--server", w.server.address,
                stdin="carol-pw\n", limit_files=True,
            )  # fmt: skip
            assert result.returncode == 1 and "error" in result.stderr
        else:
            errors: list[str] = []
            monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: errors.append(text))

            def refuse(_path: Path, _data: object) -> None:
                raise OSError(errno.EFBIG, "File too large")

            def add(dialog: AccountsDialog) -> None:
                def fill(editor: AccountEditor) -> int:
                    editor.protocol.setCurrentIndex(editor.protocol.findData("fake"))
                    editor._widgets["address"].setText(w.carol)  # type: ignore[union-attr]
                    editor._widgets["password"].setText("carol-pw")  # type: ignore[union-attr]
                    editor._widgets["server"].setText(w.server.address)  # type: ignore[union-attr]
                    editor._accept()
                    return int(editor.result())

                monkeypatch.setattr(AccountEditor, "exec", fill)
                monkeypatch.setattr(account_config, "write_private_json", refuse)
                dialog.add_button.click()

            in_window(w, qtbot, add, lambda: bool(errors))
            monkeypatch.undo()
        assert w.paths.accounts_file.read_text(encoding="utf-8") == before
        assert password(w, new_id) == "carol-pw"  # kept: never deleted because a save failed
    finally:
        SecretStore(profile_id(w.paths)).delete(new_id)


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_disabling_then_enabling_an_account(gui_world: GuiWorld, qtbot: QtBot, front_end: str) -> None:
    w = gui_world
    store = AccountStore(w.paths.accounts_file)

    def enabled() -> bool:
        account = store.get(w.account_id)
        assert account is not None
        return account.enabled

    for want in (False, True):
        if front_end == "cli":
            result = cli(w, "account", "enable" if want else "disable", w.account_id)
            assert result.returncode == 0, result.stderr
        else:

            def toggle(dialog: AccountsDialog) -> None:
                select(dialog, w.account_id)
                dialog.enable_button.click()

            in_window(w, qtbot, toggle, lambda want=want: enabled() is want)  # type: ignore[misc]
        assert enabled() is want
        assert store.get(w.account_id) is not None and store.get(w.account_id).sphere is Sphere.WORK  # type: ignore[union-attr]
    assert password(w, w.account_id) == "alice-pw"
