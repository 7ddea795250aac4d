"""``pip install .`` without a checkout: build the wheel, install it into a fresh venv in a temp dir,
and use the installed ``aggregator`` and its resources from there (not from this checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import resources

ROOT = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"
)


def source_tree(target: Path) -> Path:
    """The project's files as a fresh checkout would have them (tracked + new, not ignored)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True, timeout=60
    )
    if listed.returncode != 0:
        shutil.copytree(ROOT, target, ignore=IGNORED)
        return target
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "AGGREGATOR_"))}
    env["AGGREGATOR_HOME"] = str(tmp_path / "profile")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def run(argv: list[str], tmp_path: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done


CHECK_ICON = """
import importlib.resources, sys
import resources
from PySide6.QtGui import QGuiApplication, QImage
app = QGuiApplication([])
data = importlib.resources.files("resources").joinpath("icons", "aggregator-48.png").read_bytes()
image = QImage.fromData(data)
print(resources.__file__)
print(image.width(), image.height())
"""


@pytest.mark.timeout(900)
def test_the_wheel_installs_into_a_clean_venv_with_its_resources(tmp_path: Path) -> None:
    src = source_tree(tmp_path / "src")
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], tmp_path)
    (wheel,) = dist.glob("aggregator-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for size in resources.ICON_SIZES:
        assert f"resources/icons/aggregator-{size}.png" in names
    assert f"resources/desktop/{resources.APP_ID}.desktop" in names
    assert "resources/sounds/message.wav" in names

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    shutil.rmtree(src)  # nothing of a checkout left to lean on
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], tmp_path)

    helped = run([str(venv / "bin" / "aggregator"), "--help"], tmp_path)
    assert "desktop" in helped.stdout and "open" in helped.stdout

    run([str(venv / "bin" / "aggregator"), "desktop", "install"], tmp_path)
    desktop = tmp_path / "xdg-data" / "applications" / f"{resources.APP_ID}.desktop"
    assert f"Exec={venv / 'bin' / 'aggregator'} --home {tmp_path / 'profile'} gui %u" in desktop.read_text()
    assert (tmp_path / "xdg-data" / "icons" / "hicolor" / "256x256" / "apps" / f"{resources.APP_ID}.png").is_file()

    loaded = run([str(venv / "bin" / "python"), "-c", CHECK_ICON], tmp_path).stdout.split("\n")
    assert Path(loaded[0]).is_relative_to(venv)  # the installed copy, not this checkout
    assert loaded[1] == "48 48"
