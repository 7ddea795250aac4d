"""The command itself: help, the desktop app without a display, usage errors (exit 2) that change nothing."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.cli.conftest import Profile


async def test_python_m_aggregator_help_lists_the_commands(profile: Profile) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aggregator",
        "--help",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=profile.env,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert text.startswith("usage: aggregator")
    for command in ("run", "account", "send", "history"):
        assert command in text
    assert err == b""


@pytest.mark.parametrize("args", [(), ("run",), ("gui",)], ids=["no-args", "run", "gui"])
async def test_without_a_display_the_desktop_app_says_so_and_exits_1(profile: Profile, args: tuple[str, ...]) -> None:
    """Qt would abort the process; the user gets one line saying why and what to use instead."""
    no_display = {"QT_QPA_PLATFORM": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    line = (await profile.run(*args, env=no_display)).error_line(1)
    assert "no display" in line
    assert "run --headless" in line


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("frobnicate",), "invalid choice"),
        (("history",), "--with"),
        (("history", "--with", "bob@fake.test", "--limit", "0"), "--limit"),
        (("history", "--with", "bob@fake.test", "--limit", "many"), "--limit"),
        (("history", "--with", "bob@fake.test", "--account", "nobody@fake.test"), "nobody@fake.test"),
        (("send", "nobody@fake.test", "bob@fake.test", "hi"), "nobody@fake.test"),
        (("account", "add", "fake"), "ADDRESS"),
        (("account", "add", "fake", "a@fake.test", "--sphere", "office"), "office"),
        (("account", "remove", "nobody@fake.test"), "nobody@fake.test"),
        (("account", "disable", "nobody@fake.test"), "nobody@fake.test"),
        (("run", "--headless"), "no enabled account"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else None,
)
async def test_usage_errors_exit_2_name_the_problem_and_change_nothing(
    profile: Profile, args: tuple[str, ...], complaint: str
) -> None:
    result = await profile.run(*args)
    assert result.rc == 2, str(result)
    assert complaint in result.stderr, str(result)
    assert result.stdout == ""
    assert profile.accounts_bytes() is None


async def test_home_option_selects_the_profile(profile: Profile, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other-home")
    added = await profile.run(
        "--home",
        str(other),
        "account",
        "add",
        "fake",
        "zed@fake.test",
        "--server",
        "127.0.0.1:9",
        "--allow-plaintext",
        "--password-stdin",
        stdin="pw-zed\n",
    )
    added.ok()
    assert (other / "config" / "accounts.json").exists()
    assert profile.accounts_bytes() is None  # AGGREGATOR_HOME was not used
    listed = (await profile.run("--home", str(other), "account", "list")).ok()
    assert "fake:zed@fake.test" in listed.stdout
    (await profile.run("--home", str(other), "account", "remove", "zed@fake.test")).ok()
