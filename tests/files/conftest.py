from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.clamd import ClamdError, ClamdServer


@pytest.fixture(scope="session")
def clamd_server() -> Iterator[ClamdServer]:
    # Not under pytest's tmp_path: that is private to root (0700) and clamd runs as the clamav user.
    root = Path(tempfile.mkdtemp(prefix="aggregator-clamd-"))
    server = ClamdServer(root)
    try:
        server.start()
    except ClamdError as exc:
        pytest.fail(f"the test clamd did not start: {exc}")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
