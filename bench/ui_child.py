"""The GUI process of ``bench.ui``: one cold start, or one long session of measurements.

Started by ``bench.ui`` (never by hand); reports one JSON object per line on stdout, prefixed with
``BENCH``. Wall-clock marks (``time.time()``) let the parent measure a cold start from before its
``Popen`` call. Modes:

* ``empty-start``: the baseline window: import Qt, a ``QMainWindow`` of the app's size, shown, its
  first paint; with ``--settle``, the resident memory a second later.
* ``app-start HOME N``: ``ui.app.start_session`` on the profile, the window shown, the first paint of
  the buddy list after its N persons were loaded.
* ``app-session HOME N``: the same start, then the in-process measurements (conversation opening,
  memory, filter keystrokes, GUI stalls), the last one paced by the parent delivering messages.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import sqlite3
import sys
import time

T_PROCESS = time.time()

if sys.argv[1:2] != ["empty-start"]:
    # The product's own order: the ``aggregator`` command imports its CLI, and with it the core and
    # SQLAlchemy, before the GUI entry point (``ui.app``) imports Qt. Modules imported after PySide6
    # pass through its import hook, which reads each one's source (time, and ~19 MiB of line cache).
    import aggregator.cli.main  # noqa: F401

from PySide6.QtCore import QEvent, QEventLoop, QObject, QSortFilterProxyModel, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QStandardItem, QStandardItemModel  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget  # noqa: E402

APP_SIZE = (960, 620)  # MainWindow's default size
# Waits run a local event loop: QApplication.quit() would also close the windows (Qt 6).
LOOP: QEventLoop


def report(**values: object) -> None:
    sys.stdout.write("BENCH " + json.dumps(values) + "\n")
    sys.stdout.flush()


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


class PaintWatch(QObject):
    """Notes the wall and perf time of the first paint of ``widget`` once ``armed`` is true."""

    def __init__(self, widget: QWidget, armed: bool = True) -> None:
        super().__init__(widget)
        self.armed = armed
        self.wall = 0.0
        self.perf = 0.0
        self.on_paint: list[object] = []
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.armed and not self.perf and event.type() == QEvent.Type.Paint:
            self.perf = time.perf_counter()
            self.wall = time.time()
            # The paint itself happens after this filter returns; let it finish before anyone quits.
            QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        LOOP.quit()


def spin_until(app: QApplication, check: object, timeout: float = 60.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("bench.ui_child: timed out")
        app.processEvents()
        time.sleep(0.002)


# ------------------------------------------------------------------------------------- baseline


def empty_start(settle: bool) -> None:
    app = QApplication(sys.argv[:1])
    global LOOP
    LOOP = QEventLoop()
    window = QMainWindow()
    window.resize(*APP_SIZE)
    watch = PaintWatch(window)
    window.show()
    LOOP.exec()
    report(imported=T_PROCESS, painted=watch.wall)
    if settle:
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        report(rss_kib=rss_kib())


# --------------------------------------------------------------------------------------- project


def _start(home: str, persons: int) -> tuple[QApplication, object, PaintWatch]:
    import keyring

    from aggregator.accounts.secrets import SecretStore
    from aggregator.paths import ProfilePaths
    from aggregator.profile import profile_id
    from aggregator.registry import ProtocolRegistry
    from bench.startup import MemoryKeyring
    from bench.ui_world import PASSWORD, accounts
    from ui.app import start_session

    t_imported = time.time()
    keyring.set_keyring(MemoryKeyring())
    paths = ProfilePaths.resolve(home)
    secrets = SecretStore(profile_id(paths))
    for a in accounts():
        secrets.set_password(a.id, PASSWORD)
    app = QApplication(sys.argv[:1])
    global LOOP
    LOOP = QEventLoop()
    session = start_session(paths, ProtocolRegistry.discover())
    window = session.window
    watch = PaintWatch(window.tree.viewport(), armed=False)

    def loaded() -> None:
        watch.armed = True
        window.tree.viewport().update()

    window.feed.loaded.connect(loaded)
    window.show()
    LOOP.exec()
    shown = len(window.model.persons())
    if shown != persons:
        raise SystemExit(f"bench.ui_child: {shown} persons in the buddy list, expected {persons}")
    report(imported=t_imported, painted=watch.wall, persons=shown)
    return app, session, watch


def app_start(home: str, persons: int) -> None:
    _app, session, _watch = _start(home, persons)
    session.shutdown()  # type: ignore[attr-defined]


def app_session(home: str, persons: int, big_handle: str, opens: int, names: int, stall_rounds: int) -> None:
    from ui.app import Session

    app, started, _watch = _start(home, persons)
    assert isinstance(started, Session)
    try:
        window = started.window
        spin_until(app, lambda: all("connected" in window.accounts_strip.state_text(a) for a in _account_ids()))
        report(rss_persons_kib=rss_kib())
        open_conversations(app, started, big_handle, opens)
        filter_keystrokes(app, started, persons, names)
        stalls(app, started, stall_rounds)
    finally:
        started.shutdown()


def _account_ids() -> list[str]:
    from bench.ui_world import accounts

    return [a.id for a in accounts()]


def _person_of(session: object, handle: str) -> int:
    from ui.app import Session

    assert isinstance(session, Session)
    for row in session.window.model.persons():
        if any(c.ref.handle == handle for c in row.contacts):
            return int(row.id)
    raise SystemExit(f"bench.ui_child: no person for {handle}")


def open_conversations(app: QApplication, session: object, big_handle: str, opens: int) -> None:
    """open_person -> the first page painted, against the bare newest-50 query; then 20 open tabs."""
    from ui.app import Session

    assert isinstance(session, Session)
    window = session.window
    pid = _person_of(session, big_handle)
    bare = sqlite3.connect(session.paths.archive_file)
    (conv,) = bare.execute("SELECT id FROM conversations WHERE handle = ?", (big_handle,)).fetchone()
    project: list[float] = []
    baseline: list[float] = []
    for _ in range(opens):
        t0 = time.perf_counter()
        tab = window.open_person(pid)
        assert tab is not None
        watch = PaintWatch(tab.view.viewport(), armed=False)

        def arm(*_args: object, watch: PaintWatch = watch) -> None:
            watch.armed = True

        tab.model.rowsInserted.connect(arm)
        LOOP.exec()
        project.append(watch.perf - t0)
        if tab.model.rowCount() != 50:
            raise SystemExit(f"bench.ui_child: the first page has {tab.model.rowCount()} messages")
        window.conversations.close_person(pid)
        spin_until(app, lambda: window.conversations.count() == 0)
        app.processEvents()
        t0 = time.perf_counter()
        rows = bare.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 50", (conv,)
        ).fetchall()
        baseline.append(time.perf_counter() - t0)
        assert len(rows) == 50
    report(open_project=project, open_bare=baseline)
    bare.close()
    # 20 open conversations: the big one and the 19 small ones.
    from bench.ui_world import ME, contacts

    handles = contacts(len(window.model.persons()))[ME[0]][:20]
    for handle in handles:
        tab = window.open_person(_person_of(session, handle))
        assert tab is not None
        spin_until(app, lambda tab=tab: tab.model.rowCount() > 0)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    report(rss_open_kib=rss_kib(), open_tabs=window.conversations.count())


def filter_keystrokes(app: QApplication, session: object, persons: int, names: int) -> None:
    """Type names one character at a time into the filter (applied directly, no debounce) and into
    a bare QSortFilterProxyModel over a QStandardItemModel of the same names; alternate per keystroke."""
    from bench.ui_world import typed_names
    from ui.app import Session

    assert isinstance(session, Session)
    window = session.window
    source = QStandardItemModel()
    for row in window.model.persons():
        source.appendRow(QStandardItem(row.name))
    bare = QSortFilterProxyModel()
    bare.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    bare.setSourceModel(source)
    project: list[float] = []
    view: list[float] = []
    baseline: list[float] = []
    clear_project: list[float] = []
    clear_view: list[float] = []  # the relayout + paint after a clear: all 10,000 persons shown again
    clear_bare: list[float] = []
    matched: list[int] = []

    def keystroke(text: str, into: list[float]) -> None:
        t0 = time.perf_counter()
        window.filter.setText(text)
        window._filter_timer.stop()  # the debounce: apply now, as its timeout would
        window._apply_filter()
        into.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        app.processEvents()  # the tree's relayout and repaint
        (view if into is project else clear_view).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bare.setFilterFixedString(text)
        (baseline if into is project else clear_bare).append(time.perf_counter() - t0)

    for name in typed_names(persons, names):
        for k in range(1, len(name) + 1):
            keystroke(name[:k], project)
        matched.append(_shown_persons(window))
        keystroke("", clear_project)
    report(
        filter_project=project, filter_view=view, filter_bare=baseline, clear_project=clear_project,
        clear_view=clear_view, clear_bare=clear_bare, matched=matched, bare_rows=source.rowCount(),
    )  # fmt: skip


def _shown_persons(window: object) -> int:
    from ui.main_window import MainWindow
    from ui.models.roster_model import PERSON

    assert isinstance(window, MainWindow)
    count = 0
    for s in range(window.proxy.rowCount()):
        sphere = window.proxy.index(s, 0)
        for r in range(window.proxy.rowCount(sphere)):
            if window.proxy.index(r, 0, sphere).data(Qt.ItemDataRole.UserRole + 1) == PERSON:
                count += 1
    return count


class Heartbeat(QObject):
    """A 5 ms timer on the GUI thread; records how late each tick fires."""

    INTERVAL_MS = 5

    def __init__(self) -> None:
        super().__init__()
        self.late: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    def run(self, app: QApplication, seconds: float) -> list[float]:
        self.late = []
        self._last = time.perf_counter()
        self._timer.start()
        QTimer.singleShot(int(seconds * 1000), LOOP.quit)
        LOOP.exec()
        self._timer.stop()
        return self.late

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, now - self._last - self.INTERVAL_MS / 1000))
        self._last = now


def stalls(app: QApplication, session: object, rounds: int) -> None:
    """Quiet 10 s, then 10 s while the parent delivers 100 messages/s; ``rounds`` times."""
    from ui.app import Session

    assert isinstance(session, Session)
    stored = [0]
    session.ctx.bridge.message_stored.connect(lambda _e: stored.__setitem__(0, stored[0] + 1))
    beat = Heartbeat()
    window = session.window
    # BENCH_UI_PROFILE=FILE: cProfile of the GUI thread during the loaded windows, dumped to FILE.
    profile_to = os.environ.get("BENCH_UI_PROFILE")
    profiler = cProfile.Profile() if profile_to else None
    for _ in range(rounds):
        quiet = beat.run(app, 10.0)
        before, trips, posted = stored[0], _bridge_count(session, "round_trips"), _bridge_count(session, "posted")
        report(send=10.0)
        if profiler is not None:
            profiler.enable()
        loaded = beat.run(app, 10.0)
        if profiler is not None:
            profiler.disable()
        # The parent stops after 10 s; let the tail arrive before the next quiet window.
        beat.run(app, 1.5)
        report(
            quiet_max=max(quiet), quiet_p99=_p(quiet, 99), loaded_max=max(loaded), loaded_p99=_p(loaded, 99),
            ticks_quiet=len(quiet), ticks_loaded=len(loaded), stored=stored[0] - before,
            round_trips=_bridge_count(session, "round_trips") - trips,
            posted=_bridge_count(session, "posted") - posted,
            open_tabs=window.conversations.count(),
        )  # fmt: skip
    if profiler is not None and profile_to:
        profiler.dump_stats(profile_to)


def _bridge_count(session: object, name: str) -> int:
    """``Bridge.round_trips`` / ``Bridge.posted`` (0 on trees from before they were counted)."""
    from ui.app import Session

    assert isinstance(session, Session)
    return int(getattr(session.ctx.bridge, name, 0))


def _p(values: list[float], pct: float) -> float:
    from bench.common import percentile

    return percentile(values, pct)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["empty-start", "app-start", "app-session"])
    parser.add_argument("--home", default="")
    parser.add_argument("--persons", type=int, default=0)
    parser.add_argument("--big", default="")
    parser.add_argument("--opens", type=int, default=10)
    parser.add_argument("--names", type=int, default=20)
    parser.add_argument("--stall-rounds", type=int, default=3)
    parser.add_argument("--settle", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.mode == "empty-start":
        empty_start(args.settle)
    elif args.mode == "app-start":
        app_start(args.home, args.persons)
    else:
        app_session(args.home, args.persons, args.big, args.opens, args.names, args.stall_rounds)


if __name__ == "__main__":
    main()
