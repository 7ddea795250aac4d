"""Screenshots of the instant start: the buddy list painted from the snapshot (before the core is
imported), and the live window that replaced it (same rows, scroll position and selection).

A profile of 200 persons on bench.ui's 3 fake accounts (their server is not running: the accounts wait,
the list comes from the archive); an in-memory keyring. Run under Xvfb::

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" \\
        env PYTHONPATH=. .venv/bin/python docs/screenshots/make_instant_start_screenshots.py

Writes instant-start-snapshot.png and instant-start-live.png next to this file. The script runs itself
three times: a first session (tabs opened, a person selected, the list scrolled; its exit writes the
snapshot), then a start painted from the snapshot whose live window takes over.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PERSONS = 200


def _spin(cond: object, timeout: float = 30) -> None:
    from PySide6.QtWidgets import QApplication

    assert callable(cond)
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        QApplication.processEvents()
        time.sleep(0.005)


def stage(home: Path, which: str) -> None:
    import keyring

    from aggregator.accounts.secrets import SecretStore
    from aggregator.paths import ProfilePaths
    from aggregator.profile import profile_id
    from aggregator.registry import ProtocolRegistry
    from bench.startup import MemoryKeyring
    from bench.ui_world import PASSWORD, accounts, write_profile

    keyring.set_keyring(MemoryKeyring())
    if which == "first":
        write_profile(home, "127.0.0.1:9", PERSONS)
    paths = ProfilePaths.resolve(home)
    secrets = SecretStore(profile_id(paths))
    for a in accounts():
        secrets.set_password(a.id, PASSWORD)
    from PySide6.QtWidgets import QAbstractItemView, QApplication

    from ui.app import adopt_preview, start_session
    from ui.instant import paint_preview
    from ui.snapshot_view import take_preview

    if which == "first":
        QApplication(sys.argv[:1])
        session = start_session(paths, ProtocolRegistry.discover())
        window = session.window
        window.show()
        _spin(lambda: len(window.model.persons()) == PERSONS)
        rows = sorted(window.model.persons(), key=lambda r: r.name)
        window.open_person(rows[3].id)
        window.open_person(rows[7].id)
        window.tree.setCurrentIndex(window.proxy.mapFromSource(window.model.person_index(rows[40].id)))
        top = window.proxy.mapFromSource(window.model.person_index(rows[22].id))
        window.tree.scrollTo(top, QAbstractItemView.ScrollHint.PositionAtTop)
        QApplication.processEvents()
        window.close()
        session.shutdown()
        return
    assert paint_preview(str(home)), "no snapshot was painted"
    preview = take_preview()
    assert preview is not None
    preview.grab().save(str(HERE / "instant-start-snapshot.png"))
    session = start_session(paths, ProtocolRegistry.discover())
    adopt_preview(session, preview)
    window = session.window
    _spin(lambda: window.isVisible() and len(window.model.persons()) == PERSONS)
    end = time.monotonic() + 1.0
    _spin(lambda: time.monotonic() > end)
    window.grab().save(str(HERE / "instant-start-live.png"))
    session.shutdown()


def main() -> None:
    if len(sys.argv) == 3:
        stage(Path(sys.argv[1]), sys.argv[2])
        return
    with tempfile.TemporaryDirectory(prefix="instant-shots-") as tmp:
        for which in ("first", "second"):
            subprocess.run([sys.executable, __file__, tmp, which], check=True)


if __name__ == "__main__":
    main()
