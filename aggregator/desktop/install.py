"""``aggregator desktop install`` / ``uninstall``: the desktop entry, AppStream metainfo and icons in
the user's XDG data directory (hicolor icon theme layout), and exactly those files removed again.

What was written is recorded in a manifest (``$XDG_DATA_HOME/aggregator/desktop-install.json``), so an
uninstall removes what this install put and nothing else, and leaves directories that held other files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import resources
from aggregator.desktop.xdg import XdgDirs, entry_escape, exec_line

log = logging.getLogger(__name__)

MANIFEST_NAME = "desktop-install.json"


def manifest_path(dirs: XdgDirs) -> Path:
    return dirs.data_home / "aggregator" / MANIFEST_NAME


def desktop_entry_text(command: Sequence[str], *, extra: Sequence[str] = ()) -> str:
    """The shipped desktop entry with Exec/TryExec pointing at ``command`` (this installation)."""
    lines = []
    for line in resources.desktop_entry().read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + entry_escape(exec_line([*command, *extra, "gui"])) + " %u"
        elif line.startswith("TryExec="):
            line = "TryExec=" + entry_escape(command[0])
        lines.append(line)
    return "\n".join(lines) + "\n"


def planned_files(dirs: XdgDirs) -> dict[Path, bytes | None]:
    """Every file an install writes, with its content (None: the desktop entry, made per install)."""
    app_id = resources.APP_ID
    icons = dirs.data_home / "icons" / "hicolor"
    files: dict[Path, bytes | None] = {
        dirs.data_home / "applications" / f"{app_id}.desktop": None,
        dirs.data_home / "metainfo" / f"{app_id}.metainfo.xml": resources.metainfo().read_bytes(),
        icons / "scalable" / "apps" / f"{app_id}.svg": resources.app_icon_svg().read_bytes(),
    }
    for size in resources.ICON_SIZES:
        files[icons / f"{size}x{size}" / "apps" / f"{app_id}.png"] = resources.app_icon_png(size).read_bytes()
    return files


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mkdirs(path: Path, created: list[Path]) -> None:
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)


def install(dirs: XdgDirs, command: Sequence[str], *, extra: Sequence[str] = ()) -> list[Path]:
    """Write the files (replacing an earlier install's), record them, and return them."""
    previous = _read_manifest(dirs)
    files = planned_files(dirs)
    entry = desktop_entry_text(command, extra=extra).encode()
    created_dirs: list[Path] = [Path(p) for p in previous.get("dirs", [])]
    written: list[Path] = []
    for path, data in files.items():
        _mkdirs(path.parent, created_dirs)
        _write_atomic(path, entry if data is None else data)
        written.append(path)
    manifest = manifest_path(dirs)
    _mkdirs(manifest.parent, created_dirs)
    record = {"files": [str(p) for p in written], "dirs": [str(d) for d in created_dirs]}
    _write_atomic(manifest, json.dumps(record, indent=2).encode() + b"\n")
    log.info("Installed the desktop entry and icons under %s", dirs.data_home)
    return written


def _read_manifest(dirs: XdgDirs) -> dict[str, list[str]]:
    try:
        data = json.loads(manifest_path(dirs).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("Ignoring an unreadable install record %s: %s", manifest_path(dirs), exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: [str(v) for v in data.get(k, []) if isinstance(v, str)] for k in ("files", "dirs")}


def uninstall(dirs: XdgDirs) -> list[Path]:
    """Remove the recorded files (only inside the data directory), then the directories the install
    created if they are empty now. Returns the files removed."""
    record = _read_manifest(dirs)
    root = dirs.data_home.resolve()
    removed: list[Path] = []
    for name in record.get("files", []):
        path = Path(name)
        if not path.resolve().is_relative_to(root):
            log.warning("Not removing %s: outside %s", path, root)
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    with contextlib.suppress(FileNotFoundError):
        manifest_path(dirs).unlink()
    for name in sorted(record.get("dirs", []), key=len, reverse=True):
        path = Path(name)
        if path.resolve().is_relative_to(root) and path.resolve() != root:
            with contextlib.suppress(OSError):
                path.rmdir()  # only when empty
    return removed


def is_installed(dirs: XdgDirs) -> bool:
    return manifest_path(dirs).exists()
