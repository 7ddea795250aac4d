"""Desktop integration from the command line: the shipped desktop entry and AppStream metainfo pass
the freedesktop validators, ``desktop install``/``uninstall`` add and remove exactly their files in the
XDG data directory, ``desktop autostart`` writes the session entry, and bad links are refused."""

from __future__ import annotations

import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import resources
from tests.cli.conftest import AGGREGATOR, CountingServer, Profile, Users
from tests.conftest import cli_env

ROOT = Path(__file__).resolve().parents[2]
SCHEMES = ("aggregator", "xmpp", "matrix", "irc")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AGGREGATOR), *args], env=env, capture_output=True, text=True, timeout=60)


def desktop_file_validate(path: Path) -> None:
    done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def appstream_validate(path: Path) -> None:
    done = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def entry(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def assert_parses(argv: list[str], env: dict[str, str]) -> None:
    """The command line is one ``aggregator`` accepts: it gets as far as checking the link it is given."""
    done = subprocess.run([*argv, "javascript:x"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cannot open 'javascript:x'" in done.stderr, done.stderr


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "my profile"  # a space: the Exec line must quote it
    home.mkdir()
    env = cli_env(home)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def test_the_shipped_entry_and_metainfo_pass_the_validators() -> None:
    desktop = Path(str(resources.desktop_entry()))
    desktop_file_validate(desktop)
    appstream_validate(Path(str(resources.metainfo())))
    fields = entry(desktop)
    assert fields["Icon"] == resources.APP_ID
    assert fields["MimeType"].split(";")[:4] == [f"x-scheme-handler/{s}" for s in SCHEMES]
    # Every screenshot the metainfo names is one we keep in docs/screenshots/.
    shots = [e.text or "" for e in ET.parse(str(resources.metainfo())).iter("image")]
    assert shots
    for url in shots:
        path = re.sub(r"^https://[^/]+/", "", url)
        assert (ROOT / path).is_file(), url


def test_install_puts_entry_metainfo_and_icons_and_uninstall_removes_exactly_them(xdg: dict[str, str]) -> None:
    data = Path(xdg["XDG_DATA_HOME"])
    # Someone else's files in the same directories must survive the uninstall.
    (data / "applications").mkdir(parents=True)
    (data / "applications" / "other.desktop").write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    (data / "icons" / "hicolor" / "48x48" / "apps").mkdir(parents=True)
    (data / "icons" / "hicolor" / "48x48" / "apps" / "other.png").write_bytes(b"not ours")
    before = tree(data)

    done = run(xdg, "desktop", "install")
    assert done.returncode == 0, done.stderr
    app_id = resources.APP_ID
    installed = data / "applications" / f"{app_id}.desktop"
    desktop_file_validate(installed)
    appstream_validate(data / "metainfo" / f"{app_id}.metainfo.xml")
    argv = shlex.split(entry(installed)["Exec"])
    assert argv == [str(AGGREGATOR), "--home", xdg["AGGREGATOR_HOME"], "gui", "%u"]
    assert_parses(argv[:-1], xdg)
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{app_id}.svg").read_bytes() == (
        resources.app_icon_svg().read_bytes()
    )
    for size in resources.ICON_SIZES:
        png = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{app_id}.png"
        assert png.read_bytes() == resources.app_icon_png(size).read_bytes()

    assert run(xdg, "desktop", "install").returncode == 0  # again: replaces, still one record
    done = run(xdg, "desktop", "uninstall")
    assert done.returncode == 0, done.stderr
    assert tree(data) == before
    again = run(xdg, "desktop", "uninstall")
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_autostart_starts_minimised_to_the_tray_and_turns_off(xdg: dict[str, str]) -> None:
    autostart = Path(xdg["XDG_CONFIG_HOME"]) / "autostart"
    autostart.mkdir(parents=True)
    (autostart / "other.desktop").write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    assert run(xdg, "desktop", "autostart", "status").stdout.strip() == "off"

    assert run(xdg, "desktop", "autostart", "on").returncode == 0
    ours = autostart / f"{resources.APP_ID}.desktop"
    desktop_file_validate(ours)
    argv = shlex.split(entry(ours)["Exec"])
    assert argv == [str(AGGREGATOR), "--home", xdg["AGGREGATOR_HOME"], "gui", "--minimized"]
    assert_parses(argv, xdg)
    assert run(xdg, "desktop", "autostart", "status").stdout.strip() == "on"

    assert run(xdg, "desktop", "autostart", "off").returncode == 0
    assert not ours.exists() and (autostart / "other.desktop").exists()
    assert run(xdg, "desktop", "autostart", "status").stdout.strip() == "off"


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "xmpp:example.org",
        "xmpp:al\u202eice@example.org",
        "matrix:u/alice",
        "irc://user:secret@irc.example.org/team",
        "irc://irc.example.org/te am",
        "aggregator:open?account=fake%3Ax&to=a&room=b",
    ],
)
def test_open_refuses_a_bad_link_without_starting_anything(xdg: dict[str, str], link: str) -> None:
    done = run(xdg, "open", link)
    assert done.returncode == 2
    assert done.stderr.startswith("aggregator: error: cannot open")  # refused before any window or socket


async def test_a_launch_beside_a_headless_instance_says_there_is_no_window(
    profile: Profile, server: CountingServer, users: Users
) -> None:
    await profile.add(users.alice, server)
    headless = await profile.headless(connected=users.alice)
    line = (await profile.run("gui")).error_line(1)
    assert line == (
        "aggregator: error: this profile is already open in `aggregator run --headless`, which has no window; "
        "stop it to open the window"
    )
    line = (await profile.run("open", f"aggregator:open?account=fake%3Ax&to={users.bob.address}")).error_line(1)
    assert "has no window" in line
    assert await headless.stop() == 0
