"""The GUI process of ``bench.startup --window``: one instant start (never run by hand).

What the ``aggregator`` command does for a plain window start: ``ui.instant.paint_preview`` (Qt and
the snapshot reader only) paints the buddy list from the profile's snapshot; its return is the
"painted" mark (the first paint of the list has *finished*). Then, as the product does after that
paint, the command line and the core are imported, ``ui.app.start_session`` starts the core and the
live window replaces the painted one (``adopt_preview``); "live" is when the live window is shown
with its N persons. Reports one ``BENCH`` JSON line with wall-clock marks, like ``bench.ui_child``.

    python -m bench.instant_child --home DIR --persons N
"""

from __future__ import annotations

import time

T_PROCESS = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def report(**values: object) -> None:
    sys.stdout.write("BENCH " + json.dumps(values) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--persons", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from ui.instant import paint_preview

    if not paint_preview(args.home):
        raise SystemExit("bench.instant_child: nothing painted (no snapshot in the profile?)")
    painted = time.time()
    heavy = sorted(m for m in ("sqlalchemy", "aggregator.core", "slixmpp", "nio") if m in sys.modules)

    # After the first paint: what ``ui.instant.main``, ``aggregator.cli.main`` and ``ui.app.launch`` do.
    from ui.instant import warm_up

    warm_up()
    import keyring
    from PySide6.QtWidgets import QApplication

    import aggregator.cli.main  # noqa: F401
    from aggregator.accounts.secrets import SecretStore
    from aggregator.paths import ProfilePaths
    from aggregator.profile import profile_id
    from aggregator.registry import ProtocolRegistry
    from bench.startup import MemoryKeyring
    from bench.ui_world import PASSWORD, accounts
    from ui.app import adopt_preview, start_session
    from ui.snapshot_view import take_preview

    keyring.set_keyring(MemoryKeyring())
    paths = ProfilePaths.resolve(args.home)
    secrets = SecretStore(profile_id(paths))
    for a in accounts():
        secrets.set_password(a.id, PASSWORD)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    preview = take_preview()
    assert preview is not None
    session = start_session(paths, ProtocolRegistry.discover())
    adopt_preview(session, preview)
    window = session.window
    deadline = time.monotonic() + 60
    while not (window.isVisible() and len(window.model.persons()) == args.persons):
        if time.monotonic() > deadline:
            raise SystemExit("bench.instant_child: the live window did not take over")
        app.processEvents()
        time.sleep(0.001)
    live = time.time()
    report(process=T_PROCESS, painted=painted, live=live, heavy_at_paint=heavy, persons=len(window.model.persons()))
    session.shutdown()


if __name__ == "__main__":
    main()
