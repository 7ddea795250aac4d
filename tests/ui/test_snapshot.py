"""Instant start: the buddy list painted from the snapshot written at exit, then replaced by the live one.

The snapshot's format (round trip, atomic write, corrupt / old / missing files ignored with a log
line), that the first paint happens before the core, SQLAlchemy and the protocols are imported, and
that the live window takes the painted one's place with live data, the selection and the scroll.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtWidgets import QAbstractItemView, QApplication
from pytestqt.qtbot import QtBot

from aggregator.paths import ProfilePaths
from aggregator.registry import ProtocolRegistry
from tests.ui.conftest import GuiWorld
from tests.ui.sessions import running_session
from ui import app as ui_app
from ui import snapshot_keeper
from ui.app import Session
from ui.instant import paint_preview, plain_window_start
from ui.snapshot import (
    VERSION,
    Snapshot,
    SnapshotPerson,
    SnapshotTab,
    decode,
    encode,
    read_snapshot,
    snapshot_file,
    write_snapshot,
)
from ui.snapshot_keeper import view_state
from ui.snapshot_view import PERSON_ID_ROLE, SnapshotWindow, take_preview

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = Snapshot(
    persons=(
        SnapshotPerson(1, "Ada Lovelace", "work", ("Engineering", "Friends"), "available", 3),
        SnapshotPerson(2, "Émile Zola ☕", "personal", (), "xa", 0),
    ),
    tabs=(SnapshotTab("Ada Lovelace", 1), SnapshotTab("#rust on Libera", None)),
    current_tab=1,
    selected=2,
    top=1,
    written_at=1_780_000_000.5,
)


def test_a_snapshot_reads_back_as_written(tmp_path: Path) -> None:
    path = snapshot_file(tmp_path / "data")
    write_snapshot(path, SAMPLE)
    assert read_snapshot(path) == SAMPLE
    assert decode(encode(SAMPLE)) == SAMPLE
    assert os.stat(path).st_mode & 0o777 == 0o600  # the user's names and groups: the user's only
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_a_rewrite_replaces_the_file_whole(tmp_path: Path) -> None:
    path = snapshot_file(tmp_path)
    write_snapshot(path, SAMPLE)
    write_snapshot(path, replace(SAMPLE, persons=SAMPLE.persons[:1], tabs=()))
    got = read_snapshot(path)
    assert got is not None and [p.name for p in got.persons] == ["Ada Lovelace"] and got.tabs == ()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"version": 1, "persons": [[1, "Ada", "work", [], "available"', "not JSON"),  # cut off mid-write
        (b"\xff\xfe garbage", "not JSON"),
        (json.dumps({"version": VERSION + 1, "persons": []}).encode(), "version"),
        (json.dumps({"persons": []}).encode(), "version"),
        (json.dumps({"version": VERSION, "persons": [[1, "Ada", "moon", [], "away", 0]]}).encode(), "sphere"),
        (json.dumps({"version": VERSION, "persons": [["1", "Ada", "work", [], "away", 0]]}).encode(), "number"),
        (json.dumps([1, 2]).encode(), "object"),
    ],
)
def test_a_corrupt_or_foreign_snapshot_is_ignored_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, reason: str
) -> None:
    path = snapshot_file(tmp_path)
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="ui.snapshot"):
        assert read_snapshot(path) is None
    assert len(caplog.records) == 1
    assert reason in caplog.records[0].getMessage() and "starting without it" in caplog.records[0].getMessage()


def test_without_a_snapshot_the_light_start_paints_nothing(tmp_path: Path) -> None:
    assert read_snapshot(tmp_path / "missing.json") is None
    assert paint_preview(str(tmp_path / "home")) is False
    assert take_preview() is None


def test_a_corrupt_snapshot_falls_back_to_the_normal_start(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    snapshot_file(gui_world.paths.data_dir).write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="ui.snapshot"):
        assert paint_preview(str(gui_world.paths.config_dir.parent)) is False
    assert "Ignoring the buddy-list snapshot" in caplog.text
    seen: dict[str, bool] = {}

    def run_loop(self: QApplication) -> int:
        window = sessions[0].window
        seen["window shown"] = window.isVisible()
        return 0

    sessions = _record_sessions(monkeypatch)
    monkeypatch.setattr(QApplication, "exec", run_loop)
    assert ui_app.launch(gui_world.paths, ProtocolRegistry.discover()) == 0
    assert seen == {"window shown": True}


def test_only_plain_window_starts_take_the_light_path() -> None:
    assert plain_window_start([]) == (True, None)
    assert plain_window_start(["gui"]) == (True, None)
    assert plain_window_start(["--home", "/p", "gui"]) == (True, "/p")
    assert plain_window_start(["--home=/p"]) == (True, "/p")
    for args in (["gui", "--minimized"], ["gui", "xmpp:bob@example.org"], ["-v"], ["send", "x"], ["--help"]):
        assert plain_window_start(args)[0] is False


def test_the_list_is_painted_before_the_core_and_the_protocols_are_imported(tmp_path: Path) -> None:
    """A fresh interpreter runs the light start; at its first paint none of these are loaded."""
    home = tmp_path / "home"
    write_snapshot(snapshot_file(home / "data"), SAMPLE)
    script = (
        "import sys, json\n"
        "from ui.instant import paint_preview\n"
        "from ui.snapshot_view import take_preview\n"
        f"assert paint_preview({str(home)!r})\n"
        "window = take_preview()\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'rows': window.model.rowCount(),\n"
        "                  'visible': window.isVisible()}))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["visible"] and got["rows"] == 2  # the two spheres, painted
    heavy = ("sqlalchemy", "slixmpp", "nio", "protocols", "aggregator.core", "aggregator.archive", "aggregator.cli")
    assert [m for m in got["modules"] if m.split(".")[0] in heavy or m.startswith(heavy)] == []
    assert "aggregator.bootstrap" not in got["modules"] and "aggregator.api" not in got["modules"]


def _record_sessions(monkeypatch: pytest.MonkeyPatch) -> list[Session]:
    sessions: list[Session] = []
    real = ui_app.start_session

    def start(*args: object, **kwargs: object) -> Session:
        sessions.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return sessions[-1]

    monkeypatch.setattr(ui_app, "start_session", start)
    return sessions


def _person_names(window: SnapshotWindow) -> list[str]:
    names = []
    pending = [window.model.invisibleRootItem()]
    while pending:
        item = pending.pop()
        for row in range(item.rowCount()):
            child = item.child(row)
            if child.data(PERSON_ID_ROLE) is not None:
                names.append(child.text())
            pending.append(child)
    return sorted(names)


def test_exit_writes_the_snapshot_and_the_next_start_paints_it_then_goes_live(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = gui_world
    w.server.set_roster(w.alice, [w.bob, w.carol])
    secret_body = f"the door code is {time.time_ns()}"
    # 1. A session: the roster arrives, bob writes (an unread message), the user opens carol's tab.
    with running_session(w, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: len(window.model.persons()) == 2, timeout=10_000)
        w.on_server(w.server.deliver(w.bob, w.alice, secret_body))
        bob = next(r for r in window.model.persons() if r.best.handle == w.bob)
        carol = next(r for r in window.model.persons() if r.best.handle == w.carol)
        qtbot.waitUntil(lambda: (window.model.person(bob.id) or bob).unread == 1, timeout=10_000)
        window.open_person(carol.id)
        window.tree.setCurrentIndex(window.proxy.mapFromSource(window.model.person_index(bob.id)))
    # 2. Exit wrote the snapshot: the list as shown, no message text, no addresses.
    path = snapshot_file(w.paths.data_dir)
    raw = path.read_text(encoding="utf-8")
    assert secret_body not in raw and w.bob not in raw and w.carol not in raw
    snap = read_snapshot(path)
    assert snap is not None
    assert sorted((p.name, p.unread) for p in snap.persons) == sorted([(bob.name, 1), (carol.name, 0)])
    assert [t.title for t in snap.tabs] == [carol.name] and snap.selected == bob.id
    # Make it visibly stale: someone removed since, and bob's presence as last known.
    ghost = SnapshotPerson(999_999, "Ghost From Last Week", "work", (), "available", 0)
    write_snapshot(path, replace(snap, persons=(*snap.persons, ghost)))

    # 3. The next start paints the snapshot first...
    assert paint_preview(str(w.paths.config_dir.parent)) is True
    preview = take_preview()
    assert preview is not None and preview.isVisible()
    assert _person_names(preview) == sorted([f"{bob.name}  (1)", carol.name, "Ghost From Last Week"])
    assert preview.tabs.tabText(0) == carol.name
    assert preview.view_state()[0] == bob.id  # the selection as it was at exit
    from ui.snapshot_view import offer_preview

    bob_item = next(
        preview.model.item(s).child(r)
        for s in range(preview.model.rowCount())
        for r in range(preview.model.item(s).rowCount())
        if preview.model.item(s).child(r).data(PERSON_ID_ROLE) == bob.id
    )
    preview.tree.activated.emit(bob_item.index())  # a double-click while connecting: opens once live
    offer_preview(preview)
    geometry = preview.geometry()
    sessions = _record_sessions(monkeypatch)
    seen: dict[str, object] = {}

    def run_loop(self: QApplication) -> int:  # ...then the live window replaces it
        window = sessions[0].window
        qtbot.waitUntil(lambda: window.isVisible() and not shiboken6.isValid(preview), timeout=10_000)
        seen["live persons"] = sorted(r.name for r in window.model.persons())
        current = window.tree.currentIndex()
        seen["selected"] = window.model.node(window.proxy.mapToSource(current)).payload.id
        # In the painted window's place (wider only where the live window cannot be that narrow: the
        # offscreen screen is 800 px wide, narrower than the live window's minimum).
        live = window.geometry()
        wide = max(geometry.width(), window.minimumSizeHint().width())
        seen["geometry"] = (live.topLeft(), live.size().toTuple()) == (geometry.topLeft(), (wide, geometry.height()))
        seen["minimized"] = window.isMinimized()
        seen["tabs"] = [window.conversations.tabText(i) for i in range(window.conversations.count())]
        seen["current tab"] = window.conversations.tabText(window.conversations.currentIndex())
        return 0

    monkeypatch.setattr(QApplication, "exec", run_loop)
    assert ui_app.launch(w.paths, ProtocolRegistry.discover()) == 0
    assert seen == {
        "live persons": sorted([bob.name, carol.name]),  # the ghost is gone: live data
        "selected": bob.id,
        "geometry": True,
        "minimized": False,
        "tabs": [carol.name, bob.name],  # carol's from the last session, bob's from the double-click
        "current tab": bob.name,
    }


def test_the_list_keeps_its_selection_and_scroll_when_the_model_is_reset(gui_world: GuiWorld, qtbot: QtBot) -> None:
    """The rooms' load resets the whole buddy list just after the persons': the user's place stays."""
    w = gui_world
    people = [w.server.add_user(f"person{i:02d}.{w.bob}", "pw") for i in range(60)]
    w.server.set_roster(w.alice, people)
    with running_session(w, qtbot) as session:
        window = session.window
        window.resize(600, 400)
        qtbot.waitUntil(lambda: len(window.model.persons()) == 60, timeout=10_000)
        rows = sorted(window.model.persons(), key=lambda r: r.name.casefold())
        selected, top = int(rows[35].id), int(rows[30].id)
        window.tree.setCurrentIndex(window.proxy.mapFromSource(window.model.person_index(rows[35].id)))
        window.tree.scrollTo(
            window.proxy.mapFromSource(window.model.person_index(rows[30].id)),
            QAbstractItemView.ScrollHint.PositionAtTop,
        )
        assert view_state(window) == (selected, top)
        views = session.views
        assert views is not None
        qtbot.waitUntil(lambda: views.state == (selected, top), timeout=5_000)
        window.model.set_rooms(window.model.rooms())  # what the rooms' load does
        assert view_state(window) == (selected, top)
        assert window.tree.verticalScrollBar().value() > 0


def test_a_running_session_keeps_a_recent_snapshot_for_after_a_crash(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = gui_world
    monkeypatch.setattr(snapshot_keeper, "DELAY_MS", 50)
    w.server.set_roster(w.alice, [w.bob])
    path = snapshot_file(w.paths.data_dir)
    with running_session(w, qtbot) as session:
        window = session.window
        qtbot.waitUntil(lambda: len(window.model.persons()) == 1, timeout=10_000)
        w.on_server(w.server.deliver(w.bob, w.alice, "are you there?"))

        def written_with_the_unread_message() -> bool:
            snap = read_snapshot(path)
            return snap is not None and [p.unread for p in snap.persons] == [1]

        qtbot.waitUntil(written_with_the_unread_message, timeout=10_000)  # no exit needed


def test_no_snapshot_is_painted_when_an_instance_already_runs(tmp_path: Path) -> None:
    """A second launch hands over to the running window (the normal command line does): it must not
    flash a stale list first."""
    home = tmp_path / "home"
    paths = ProfilePaths.resolve(home)
    paths.ensure()
    write_snapshot(snapshot_file(paths.data_dir), SAMPLE)
    paths.control_socket.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(paths.control_socket))
        listener.listen(1)
        assert paint_preview(str(home)) is False
    assert take_preview() is None
    paths.control_socket.unlink()
    assert paint_preview(str(home)) is True  # nobody answers any more: painted
    preview = take_preview()
    assert preview is not None
    preview.close()


def test_closing_the_painted_window_while_loading_ends_the_start(
    gui_world: GuiWorld, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(snapshot_file(gui_world.paths.data_dir), SAMPLE)
    assert paint_preview(str(gui_world.paths.config_dir.parent)) is True
    preview = take_preview()
    assert preview is not None
    preview.close()  # the user changed their mind before the core had loaded
    from ui.snapshot_view import offer_preview

    offer_preview(preview)
    sessions = _record_sessions(monkeypatch)
    assert ui_app.launch(gui_world.paths, ProtocolRegistry.discover()) == 0
    assert sessions == []  # no core started, no window shown
